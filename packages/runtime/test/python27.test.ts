// The python27 runtime as a real process on the real interpreter, over real gRPC.
import { definePythonTests } from './python-cases.js';

definePythonTests('python27');
