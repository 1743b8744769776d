// The render farm over TLS: a real redis-server listening only on a TLS port, with a private certificate
// authority made by openssl for the test; a worker and a submitter reach it through `rediss://…?ca=FILE`
// and the frames equal a local run. Without the CA the connection is refused with the TLS reason.
// Skipped, with the reason printed, where openssl is missing or redis-server was built without TLS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { redisTlsMissing, startRedis, type TestRedis } from '../helpers/redis';
import { makeFarmProject, outputFrames, startWorker, stopWorker } from '../helpers/farm';

const missing = redisTlsMissing();
if (missing) console.log(`# skipping the farm TLS tests: ${missing}`);

describe('render farm over TLS', { skip: missing }, () => {
  let redis: TestRedis;
  before(async () => { redis = await startRedis({ tls: true, password: 'tls pass' }); });
  after(async () => { await redis?.stop(); });

  test('given a TLS-only Redis with a private CA, when a worker and a submitter use rediss://…?ca=, then the project propagates and equals a local run; without the CA the error names TLS', { timeout: 600_000 }, async () => {
    assert.match(redis.url, /^rediss:\/\/.*\?ca=/);
    const dir = tempDir('rerender-farm-tls-');
    fs.mkdirSync(path.join(dir, 'farm'));
    const { file } = await makeFarmProject(path.join(dir, 'farm'), 8, [0, 7]);
    fs.cpSync(path.join(dir, 'farm'), path.join(dir, 'local'), { recursive: true });
    const localFile = path.join(dir, 'local', path.basename(file));
    await propagateProject(localFile, await readProjectFile(localFile));
    const reference = outputFrames(localFile);

    const noCa = redis.url.replace(/\?ca=.*$/, '');
    const refused = rerender(['farm', 'status', '--redis', noCa]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /TLS with Redis at 127\.0\.0\.1:\d+ failed: .*(self.signed|certificate)/i);

    const w = startWorker(['--redis', redis.url, '--lock-seconds', '8']);
    try {
      await w.waitFor(/farm worker .* on rediss:\/\//);
      const r = rerender(['propagate', file, '--farm', redis.url, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = outputFrames(file);
      assert.deepEqual([...out.keys()], [...reference.keys()]);
      for (const [name, bytes] of reference) assert.ok(out.get(name)!.equals(bytes), `frame ${name} is byte-identical to the local run`);
      const status = rerender(['farm', 'status', '--redis', redis.url, '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.json().workers.length, 1);
      assert.ok(!status.stdout.includes('tls pass') && !r.stderr.includes('tls pass'), 'the password is never printed');
    } finally {
      await stopWorker(w);
    }
  });
});
