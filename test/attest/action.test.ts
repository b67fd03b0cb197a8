import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AttestFn, attestRun } from '../../src/action/attest.js';
import { VSA_PREDICATE_TYPE } from '../../src/core/attest/vsa.js';
import { resolvePolicy } from '../../src/core/policy/resolve.js';
import { scanPaths } from '../../src/core/scan.js';
import { pae } from '../../src/core/trust/signature.js';
import { buildDist, EVIL_PICKLE, FakeGitHub, makeRepo, runAction } from '../action/harness.js';
import { ROOT, tempDir } from '../helpers.js';

// The action's `attest` input. (1) What it hands @actions/attest, checked in-process with a recording
// stand-in. (2) The bundled dist/index.js (Node 20, as the runner runs it) publishing for real through
// @actions/attest against loopback fakes of every endpoint it calls: the job's OIDC token service
// (ACTIONS_ID_TOKEN_REQUEST_URL), GitHub's Sigstore instance (Fulcio and the timestamp authority at
// fulcio./timestamp.githubapp.com, reached through an HTTPS_PROXY that ends at a local TLS server with an
// openssl-made certificate, trusted with NODE_EXTRA_CA_CERTS) and the attestations API (GITHUB_API_URL).
// The public-good instance (Rekor) is the same code with other URLs; it is not faked here.

const CLEAN = readFileSync(join(ROOT, 'examples', 'clean', 'model.safetensors'));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
/** The job's OIDC token claims (the loopback token service signs nothing; Fulcio here checks nothing either). */
const CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:octo/models:ref:refs/heads/release/1',
  aud: 'sigstore',
};

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('attestRun: the statement file always; @actions/attest gets the VSA, subjects and token, PASSED only', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(join(dir, 'model.safetensors'), CLEAN);
  const policy = await resolvePolicy({});
  policy.file = { source: '.github/modelgate.yml at the base commit', sha256: 'ab'.repeat(32) };
  const report = await scanPaths([dir], { policy });
  const calls: Parameters<AttestFn>[0][] = [];
  const fake = (async (o) => {
    calls.push(o);
    return { bundle: {} as never, certificate: '', attestationID: '77' };
  }) as AttestFn;
  const env = {
    GITHUB_REPOSITORY: 'Octo/Models',
    GITHUB_SHA: 'c0ffee',
    GITHUB_SERVER_URL: 'https://GitHub.com',
  };
  const run = {
    file: 'out/vsa.json',
    publish: true,
    token: 'ghs_x',
    policyRef: { path: '.github/modelgate.yml', commit: 'ba5e' },
  };
  const r = await attestRun(dir, report, policy, run, env, fake);
  assert.equal(r.attestationId, '77');
  const written = JSON.parse(readFileSync(join(dir, 'out', 'vsa.json'), 'utf8'));
  assert.deepEqual(written, r.statement);
  assert.equal(written.predicate.resourceUri, 'git+https://github.com/Octo/Models@c0ffee');
  assert.deepEqual(written.predicate.policy, {
    uri: 'git+https://github.com/Octo/Models@ba5e#.github/modelgate.yml',
    digest: { sha256: 'ab'.repeat(32) },
  });
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], {
    subjects: [{ name: 'model.safetensors', digest: { sha256: sha256(CLEAN) } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: written.predicate,
    token: 'ghs_x',
  });

  // A failing scan: the statement says FAILED and is written; nothing is published.
  writeFileSync(join(dir, 'evil.pkl'), EVIL_PICKLE);
  const bad = await scanPaths([dir], { policy });
  const r2 = await attestRun(dir, bad, policy, run, env, fake);
  assert.equal(r2.statement.predicate.verificationResult, 'FAILED');
  assert.match(r2.notPublished ?? '', /did not pass/);
  assert.equal(calls.length, 1);
  assert.equal(
    JSON.parse(readFileSync(join(dir, 'out', 'vsa.json'), 'utf8')).predicate.verificationResult,
    'FAILED',
  );
});

// ---- loopback Sigstore (GitHub instance) + OIDC + attestations API ----

interface Loopback {
  env: Record<string, string>;
  connects: string[];
  requests: Array<{ host: string; method: string; path: string; auth?: string; body: string }>;
  stop: () => Promise<void>;
}

function openssl(cwd: string, ...args: string[]) {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

async function loopback(dir: string): Promise<Loopback> {
  // A CA, and a server certificate for the Sigstore hosts, made with openssl.
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  openssl(
    dir,
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=loopback-ca',
    '-days',
    '2',
    '-out',
    'ca.pem',
  );
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  openssl(dir, 'req', '-new', '-key', 'server.key', '-subj', '/CN=githubapp.com', '-out', 'server.csr');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:fulcio.githubapp.com,DNS:timestamp.githubapp.com\n',
  );
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  );
  writeFileSync(
    join(dir, 'leaf.ext'),
    'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=URI:https://github.com/octo/models/.github/workflows/release.yml@refs/heads/release/1\n',
  );

  const requests: Loopback['requests'] = [];
  const connects: string[] = [];
  let leafN = 0;
  // Fulcio: a certificate for the key the signer proves it holds; the timestamp authority: opaque bytes.
  const sigstore = createHttps(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) },
    (req, res) => {
      void body(req).then((b) => {
        const host = String(req.headers.host ?? '');
        requests.push({
          host,
          method: req.method ?? '',
          path: req.url ?? '',
          body: b,
          ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
        });
        if (host.startsWith('fulcio.') && req.url === '/api/v2/signingCert') {
          const pem = JSON.parse(b).publicKeyRequest.publicKey.content as string;
          const n = leafN++;
          writeFileSync(join(dir, `pub${n}.pem`), pem);
          openssl(dir, 'req', '-new', '-key', 'ca.key', '-subj', '/O=sigstore.dev', '-out', `leaf${n}.csr`);
          openssl(
            dir,
            'x509',
            '-req',
            '-in',
            `leaf${n}.csr`,
            '-force_pubkey',
            `pub${n}.pem`,
            '-CA',
            'ca.pem',
            '-CAkey',
            'ca.key',
            '-CAcreateserial',
            '-days',
            '1',
            '-extfile',
            'leaf.ext',
            '-out',
            `leaf${n}.pem`,
          );
          const chain = [
            readFileSync(join(dir, `leaf${n}.pem`), 'utf8'),
            readFileSync(join(dir, 'ca.pem'), 'utf8'),
          ];
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: chain } } }));
          return;
        }
        if (host.startsWith('timestamp.') && req.url === '/api/v1/timestamp') {
          res.writeHead(201, { 'content-type': 'application/timestamp-reply' });
          res.end(Buffer.from('loopback-timestamp'));
          return;
        }
        res.writeHead(404);
        res.end();
      });
    },
  );
  // The HTTPS proxy: every CONNECT ends at the local TLS server, whatever host it names.
  const proxy = createHttp();
  proxy.on('connect', (req, socket, head) => {
    connects.push(req.url ?? '');
    const up = connect((sigstore.address() as AddressInfo).port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  // The job's OIDC token service and GitHub's attestations API.
  const claims = {
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:octo/models:ref:refs/heads/release/1',
    aud: 'sigstore',
  };
  const jwt =
    ['{"alg":"RS256"}', JSON.stringify(claims)].map((s) => Buffer.from(s).toString('base64url')).join('.') +
    '.c2ln';
  const api = createHttp((req, res) => {
    void body(req).then((b) => {
      requests.push({
        host: 'api',
        method: req.method ?? '',
        path: req.url ?? '',
        body: b,
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      });
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/oidc/token')) res.end(JSON.stringify({ value: jwt }));
      else if (req.method === 'POST' && req.url === '/repos/octo/models/attestations') {
        res.statusCode = 201;
        res.end(JSON.stringify({ id: 4242 }));
      } else {
        res.statusCode = 404;
        res.end('{"message":"Not Found"}');
      }
    });
  });
  const listen = (s: Server) =>
    new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
  await listen(sigstore);
  const proxyPort = await listen(proxy);
  const apiPort = await listen(api);
  const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
  return {
    env: {
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      https_proxy: `http://127.0.0.1:${proxyPort}`,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${apiPort}/oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'id-token-request-secret',
      GITHUB_API_URL: `http://127.0.0.1:${apiPort}`,
      GITHUB_SERVER_URL: 'https://github.com',
    },
    connects,
    requests,
    stop: async () => {
      proxy.closeAllConnections();
      sigstore.closeAllConnections();
      api.closeAllConnections();
      await Promise.all([close(proxy), close(sigstore), close(api)]);
    },
  };
}

const gh = new FakeGitHub();
before(async () => {
  await Promise.all([gh.start(), buildDist()]);
});
after(() => gh.stop());

test('dist/index.js with attest: true publishes a Sigstore-signed VSA through @actions/attest (loopback endpoints)', {
  skip: !hasOpenssl && 'needs openssl',
}, async (t) => {
  const tmp = tempDir((fn) => t.after(fn));
  const certs = tempDir((fn) => t.after(fn));
  const lb = await loopback(certs);
  t.after(lb.stop);
  const { ws } = makeRepo(
    tempDir((fn) => t.after(fn)),
    { 'models/model.safetensors': CLEAN, 'models/config.json': '{}\n' },
  );
  const payload = {
    repository: {
      full_name: 'octo/models',
      name: 'models',
      owner: { login: 'octo' },
      visibility: 'private',
      default_branch: 'main',
    },
  };
  const r = await runAction({
    ws,
    tmp,
    event: 'workflow_dispatch',
    payload,
    api: gh,
    ref: 'refs/heads/release/1',
    inputs: { attest: 'true', comment: 'never', token: 'ghs_attest', path: 'models' },
    env: lb.env,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.outputs['attestation-file'], 'modelgate.vsa.json');
  assert.equal(r.outputs['attestation-id'], '4242');
  const statement = JSON.parse(readFileSync(join(ws, 'modelgate.vsa.json'), 'utf8'));
  assert.equal(statement.predicate.verificationResult, 'PASSED');
  assert.match(statement.predicate.resourceUri, /^git\+https:\/\/github\.com\/octo\/models@[0-9a-f]{40}$/);

  // The calls, in order: OIDC token (audience sigstore), Fulcio (with that token), the TSA, the attestations API.
  assert.deepEqual([...new Set(lb.connects)].sort(), [
    'fulcio.githubapp.com:443',
    'timestamp.githubapp.com:443',
  ]);
  const oidc = lb.requests.find((x) => x.path.startsWith('/oidc/token'));
  assert.ok(oidc?.path.includes('audience=sigstore'));
  assert.equal(oidc?.auth, 'Bearer id-token-request-secret');
  // Fulcio got the job's token and a proof that the signer holds the key: its signature over the token's subject.
  const fulcio = JSON.parse(lb.requests.find((x) => x.host.startsWith('fulcio.'))!.body);
  assert.equal(
    fulcio.credentials.oidcIdentityToken.split('.')[1],
    Buffer.from(JSON.stringify(CLAIMS)).toString('base64url'),
  );
  const pop = fulcio.publicKeyRequest;
  assert.ok(
    cryptoVerify(
      'sha256',
      Buffer.from(CLAIMS.sub),
      pop.publicKey.content,
      Buffer.from(pop.proofOfPossession, 'base64'),
    ),
  );
  assert.ok(lb.requests.some((x) => x.host.startsWith('timestamp.')));
  const store = lb.requests.find((x) => x.path === '/repos/octo/models/attestations');
  assert.equal(store?.auth, 'token ghs_attest');
  const bundle = JSON.parse(store!.body).bundle;
  assert.match(bundle.mediaType, /^application\/vnd\.dev\.sigstore\.bundle/);
  const env = bundle.dsseEnvelope;
  assert.equal(env.payloadType, 'application/vnd.in-toto+json');
  const payloadBytes = Buffer.from(env.payload, 'base64');
  const signed = JSON.parse(payloadBytes.toString('utf8'));
  assert.equal(signed._type, 'https://in-toto.io/Statement/v1');
  assert.equal(signed.predicateType, VSA_PREDICATE_TYPE);
  assert.deepEqual(signed.predicate, statement.predicate);
  assert.deepEqual(signed.subject, statement.subject);
  assert.deepEqual(
    signed.subject.map((s: { name: string; digest: { sha256: string } }) => [s.name, s.digest.sha256]),
    [
      ['models/config.json', sha256('{}\n')],
      ['models/model.safetensors', sha256(CLEAN)],
    ],
  );
  // The DSSE signature verifies with the key Fulcio certified, over the PAE; the TSA's reply is in the bundle.
  const leaf = new X509Certificate(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
  assert.match(leaf.subjectAltName ?? '', /release\.yml@refs\/heads\/release\/1/);
  const sig = Buffer.from(env.signatures[0].sig, 'base64');
  assert.ok(cryptoVerify('sha256', pae(env.payloadType, payloadBytes), leaf.publicKey, sig));
  assert.equal(
    Buffer.from(
      bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp,
      'base64',
    ).toString(),
    'loopback-timestamp',
  );
});

test('dist/index.js with attest: true and no id-token permission: the statement is written, the job fails saying why', async (t) => {
  const tmp = tempDir((fn) => t.after(fn));
  const { ws } = makeRepo(
    tempDir((fn) => t.after(fn)),
    { 'model.safetensors': CLEAN },
  );
  const r = await runAction({
    ws,
    tmp,
    event: 'workflow_dispatch',
    payload: {
      repository: {
        full_name: 'octo/models',
        name: 'models',
        owner: { login: 'octo' },
        visibility: 'private',
      },
    },
    api: gh,
    inputs: { attest: 'true', comment: 'never', 'attestation-file': 'out/scan.vsa.json' },
  });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /publishing it failed: .*id-token: write, attestations: write/);
  assert.equal(r.outputs['attestation-file'], 'out/scan.vsa.json');
  assert.equal(
    JSON.parse(readFileSync(join(ws, 'out', 'scan.vsa.json'), 'utf8')).predicate.verificationResult,
    'PASSED',
  );
});

test('dist/index.js without attest writes no statement and calls no Sigstore endpoint', async (t) => {
  const tmp = tempDir((fn) => t.after(fn));
  const { ws } = makeRepo(
    tempDir((fn) => t.after(fn)),
    { 'model.safetensors': CLEAN },
  );
  const r = await runAction({
    ws,
    tmp,
    event: 'workflow_dispatch',
    payload: {},
    api: gh,
    inputs: { comment: 'never' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.outputs['attestation-file'], undefined);
  assert.throws(() => readFileSync(join(ws, 'modelgate.vsa.json')));
});
