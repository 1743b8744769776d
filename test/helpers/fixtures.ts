// Where the test suite finds the sd-tiny conformance fixtures: our own copy in test/fixtures (so a fresh
// clone passes anywhere), or another set in the same manifest format named by RERENDER_SD_FIXTURES.
import path from 'node:path';

export const SD_TINY = process.env.RERENDER_SD_FIXTURES
  ? path.resolve(process.env.RERENDER_SD_FIXTURES)
  : path.resolve(__dirname, '..', 'fixtures', 'sd-tiny');
