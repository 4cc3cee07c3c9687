import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicFilterProblem, topicMatches, topicNameProblem } from '../src/topic/topic.js';

test('MQTT wildcard matching', () => {
  assert.ok(topicMatches('a/+/c', 'a/b/c'));
  assert.ok(topicMatches('a/#', 'a'));
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(topicMatches('#', 'x/y'));
  assert.ok(!topicMatches('a/+', 'a/b/c'));
  assert.ok(!topicMatches('a/b', 'a'));
  assert.ok(!topicMatches('+/x', '$SYS/x'));
});

test('Baetyl topic limits', () => {
  assert.equal(topicNameProblem('t/topic'), undefined);
  assert.match(topicNameProblem('a/+') ?? '', /wildcards/);
  assert.match(topicNameProblem('$SYS/x') ?? '', /reserved/);
  assert.match(topicNameProblem('1/2/3/4/5/6/7/8/9/10') ?? '', /levels/);
  assert.equal(topicNameProblem('1/2/3/4/5/6/7/8/9'), undefined);
  assert.match(topicFilterProblem('a/#/b') ?? '', /#/);
  assert.match(topicFilterProblem('a/b+') ?? '', /\+/);
  assert.equal(topicFilterProblem('a/+/#'), undefined);
});
