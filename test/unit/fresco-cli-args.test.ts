// FRESCO's command-line switches: each maps to its setting, and bad values are refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../main/cli/command';
import { FRESCO_FLAGS, frescoSettingsFrom } from '../../main/cli/commands/render';
import { UserError } from '../../native-models/src/errors';

const parse = (...argv: string[]) => frescoSettingsFrom(parseArgs(argv, FRESCO_FLAGS));

test('given FRESCO switches on the command line, then each sets its setting and the rest are left to the project', () => {
  assert.deepEqual(parse(), {});
  assert.deepEqual(parse('--no-spatial', '--no-temporal', '--no-cross-frame', '--no-optimise'), { spatialAttention: false, temporalAttention: false, crossFrameAttention: false, featureOptimisation: false });
  assert.deepEqual(parse('--background-smoothing', '--batch-size', '12', '--optimise-blocks', '3,0,1,2,1'), { backgroundSmoothing: true, batchSize: 12, optimisedUpBlocks: [0, 1, 2, 3] });
  assert.deepEqual(parse('--no-background-smoothing'), { backgroundSmoothing: false });
});

test('given a bad batch size or up-block list, then the command is refused with the reason', () => {
  assert.throws(() => parse('--batch-size', '2'), (e: Error) => e instanceof UserError && /from 3 to 64/.test(e.message));
  assert.throws(() => parse('--optimise-blocks', '0,x'), (e: Error) => e instanceof UserError && /0 to 8/.test(e.message));
});
