// The python36 runtime as a real process on the real interpreter, over real gRPC.
import { definePythonTests } from './python-cases.js';

definePythonTests('python36');
