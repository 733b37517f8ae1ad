'use strict'
/**
 * Tiny but valid test images, pushed straight over the registry HTTP API (no buildah, so it is fast),
 * and a `skopeo inspect --raw` helper to read back exactly what a registry serves.
 */
const { execFile } = require('node:child_process')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')
const zlib = require('node:zlib')

const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  inToto: 'application/vnd.in-toto+json'
}

/** @param {Buffer|string} b */
const sha256 = b => 'sha256:' + createHash('sha256').update(b).digest('hex')

/**
 * @typedef {{user: string, password: string}} Auth
 * @typedef {{digest: string, size: number, mediaType: string}} Descriptor
 * @typedef {{architecture: string, os: string, variant?: string}} Platform
 */

/**
 * A one-file ustar archive (deterministic: fixed mtime, uid, gid).
 * @param {string} name
 * @param {Buffer} content
 */
function tarOneFile(name, content) {
  const header = Buffer.alloc(512, 0)
  const put = (/** @type {string} */ s, /** @type {number} */ off, /** @type {number} */ len) =>
    header.write(s.slice(0, len), off, len, 'ascii')
  const octal = (/** @type {number} */ n, /** @type {number} */ len) => n.toString(8).padStart(len - 1, '0') + '\0'
  put(name, 0, 100)
  put(octal(0o644, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(content.length, 12), 124, 12)
  put(octal(0, 12), 136, 12)
  header.fill(' ', 148, 156)
  put('0', 156, 1)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const byte of header) sum += byte
  put(octal(sum, 7) + ' ', 148, 8)
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512, 0)
  return Buffer.concat([header, content, pad, Buffer.alloc(1024, 0)])
}

/**
 * @param {Auth | undefined} auth
 * @returns {Record<string, string>}
 */
function authHeader(auth) {
  return auth ? { Authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') } : {}
}

/**
 * Where fixtures go. `certDir` (a containers cert-dir: `*.crt` CAs, `client.cert` + `client.key`)
 * switches to HTTPS with that trust and client certificate.
 * @typedef {{host: string, repo: string, auth?: Auth, certDir?: string}} Target
 */

/**
 * @param {string} certDir
 * @returns {{ca: Buffer[], cert?: Buffer, key?: Buffer}}
 */
function tlsOptions(certDir) {
  const files = fs.readdirSync(certDir)
  const read = (/** @type {string} */ f) => fs.readFileSync(path.join(certDir, f))
  const cert = files.find(f => f.endsWith('.cert'))
  return {
    ca: files.filter(f => f.endsWith('.crt')).map(read),
    ...(cert ? { cert: read(cert), key: read(cert.replace(/\.cert$/, '.key')) } : {})
  }
}

/**
 * One HTTP(S) request to a registry.
 * @param {Target} t
 * @param {string} method
 * @param {string} pathOrUrl  `/v2/...` or an absolute URL (an upload Location)
 * @param {Record<string, string>} [headers]
 * @param {Buffer} [body]
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders, body: Buffer}>}
 */
function request(t, method, pathOrUrl, headers = {}, body) {
  const scheme = t.certDir ? 'https' : 'http'
  const url = new URL(pathOrUrl, `${scheme}://${t.host}`)
  const mod = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method,
        headers: {
          ...authHeader(t.auth),
          ...headers,
          ...(body || method === 'POST' || method === 'PUT' ? { 'Content-Length': String(body ? body.length : 0) } : {})
        },
        ...(url.protocol === 'https:' && t.certDir ? tlsOptions(t.certDir) : {})
      },
      res => {
        /** @type {Buffer[]} */
        const chunks = []
        res.on('data', c => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      }
    )
    req.on('error', reject)
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.end(body)
  })
}

/**
 * A request that must answer one of `ok`.
 * @param {Target} t
 * @param {string} method
 * @param {string} pathOrUrl
 * @param {number[]} ok
 * @param {Record<string, string>} [headers]
 * @param {Buffer} [body]
 */
async function call(t, method, pathOrUrl, ok, headers, body) {
  const res = await request(t, method, pathOrUrl, headers, body)
  if (!ok.includes(res.status)) {
    throw new Error(
      `${method} ${t.host}${pathOrUrl.startsWith('/') ? pathOrUrl : ''} -> ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`
    )
  }
  return res
}

/**
 * Upload a blob unless the registry already has it (monolithic POST + PUT).
 * @param {Target} t
 * @param {Buffer} blob
 * @returns {Promise<string>} the blob digest
 */
async function pushBlob(t, blob) {
  const digest = sha256(blob)
  const base = `/v2/${t.repo}/blobs`
  const head = await request(t, 'HEAD', `${base}/${digest}`)
  if (head.status === 200) return digest
  const res = await call(t, 'POST', `${base}/uploads/`, [202])
  const location = res.headers.location
  if (!location) throw new Error('registry gave no upload Location')
  const up = new URL(location, `${t.certDir ? 'https' : 'http'}://${t.host}`)
  up.searchParams.set('digest', digest)
  await call(t, 'PUT', up.toString(), [201], { 'Content-Type': 'application/octet-stream' }, blob)
  return digest
}

/**
 * PUT a manifest (by tag, or by its own digest when `tag` is empty).
 * @param {Target} t
 * @param {string | undefined} tag
 * @param {Buffer} bytes
 * @param {string} mediaType
 * @returns {Promise<Descriptor>}
 */
async function putManifest(t, tag, bytes, mediaType) {
  const digest = sha256(bytes)
  await call(t, 'PUT', `/v2/${t.repo}/manifests/${tag || digest}`, [201], { 'Content-Type': mediaType }, bytes)
  return { digest, size: bytes.length, mediaType }
}

/**
 * Push a tiny valid single-arch image. Same arguments give the same digest; a different `salt`
 * (or arch) gives a different layer, config and digest.
 * @param {{host: string, repo: string, tag?: string, os?: string, architecture: string, variant?: string,
 *   salt?: string, auth?: Auth, certDir?: string, mediaType?: 'oci' | 'docker'}} o
 * @returns {Promise<Descriptor & {platform: Platform}>}
 */
async function pushImage(o) {
  const osName = o.os ?? 'linux'
  const docker = o.mediaType === 'docker'
  const t = { host: o.host, repo: o.repo, auth: o.auth, certDir: o.certDir }
  const text = `multiarch-publish test image\nos=${osName}\narch=${o.architecture}\nvariant=${o.variant ?? ''}\nsalt=${o.salt ?? ''}\n`
  const tar = tarOneFile('hello.txt', Buffer.from(text))
  const layer = zlib.gzipSync(tar, { level: 9 })
  // Byte 9 of a gzip header is the OS; pin it so digests do not depend on the machine.
  layer[9] = 3
  const diffId = sha256(tar)
  const layerDigest = await pushBlob(t, layer)
  /** @type {Record<string, unknown>} */
  const config = {
    architecture: o.architecture,
    os: osName,
    ...(o.variant ? { variant: o.variant } : {}),
    config: { Cmd: ['/hello.txt'], Labels: { 'org.example.salt': o.salt ?? '' } },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'multiarch-publish test fixture' }]
  }
  const configBytes = Buffer.from(JSON.stringify(config))
  const configDigest = await pushBlob(t, configBytes)
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: configDigest, size: configBytes.length },
    layers: [{ mediaType: docker ? MT.dockerLayer : MT.ociLayer, digest: layerDigest, size: layer.length }]
  }
  const desc = await putManifest(t, o.tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType)
  return { ...desc, platform: { architecture: o.architecture, os: osName, ...(o.variant ? { variant: o.variant } : {}) } }
}

/**
 * Push a buildx-style attestation manifest (in-toto layer, pushed by digest, no tag) for `subject`.
 * Put it in an index with `attestationEntry()`.
 * @param {{host: string, repo: string, subject: string, auth?: Auth, certDir?: string}} o
 * @returns {Promise<Descriptor>}
 */
async function pushAttestation(o) {
  const t = { host: o.host, repo: o.repo, auth: o.auth, certDir: o.certDir }
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: 'test', digest: { sha256: o.subject.replace(/^sha256:/, '') } }],
      predicate: { builder: { id: 'multiarch-publish-test' } }
    })
  )
  const layerDigest = await pushBlob(t, statement)
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layerDigest] } })
  )
  const configDigest = await pushBlob(t, configBytes)
  const manifest = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: configDigest, size: configBytes.length },
    layers: [
      {
        mediaType: MT.inToto,
        digest: layerDigest,
        size: statement.length,
        annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }
      }
    ]
  }
  return putManifest(t, undefined, Buffer.from(JSON.stringify(manifest)), MT.ociManifest)
}

/**
 * The index entry buildx writes for an attestation manifest.
 * @param {Descriptor} attestation
 * @param {string} subject  digest of the image it attests
 */
function attestationEntry(attestation, subject) {
  return {
    ...attestation,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': subject, 'vnd.docker.reference.type': 'attestation-manifest' }
  }
}

/**
 * Push an index / manifest list whose children already exist in the repository.
 * @param {{host: string, repo: string, tag?: string, auth?: Auth, certDir?: string, mediaType?: 'oci' | 'docker',
 *   manifests: Array<Descriptor & {platform?: Platform, annotations?: Record<string, string>}>,
 *   annotations?: Record<string, string>}} o
 * @returns {Promise<Descriptor>}
 */
async function pushIndex(o) {
  const docker = o.mediaType === 'docker'
  const index = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerList : MT.ociIndex,
    manifests: o.manifests.map(m => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      ...(m.platform ? { platform: m.platform } : {}),
      ...(m.annotations && !docker ? { annotations: m.annotations } : {})
    })),
    ...(o.annotations && !docker ? { annotations: o.annotations } : {})
  }
  return putManifest(
    { host: o.host, repo: o.repo, auth: o.auth, certDir: o.certDir },
    o.tag,
    Buffer.from(JSON.stringify(index)),
    index.mediaType
  )
}

/**
 * Run `skopeo <args>`; resolves with stdout as a Buffer, rejects with stderr in the message.
 * For `inspect`, plain HTTP (or, with `certDir`, verified HTTPS with that cert-dir) and the given
 * credentials (or none: `--no-creds`) are added.
 * @param {string[]} args
 * @param {{auth?: Auth, authFile?: string, certDir?: string}} [o]
 * @returns {Promise<Buffer>}
 */
function skopeo(args, o = {}) {
  /** @type {string[]} */
  const extra = []
  if (args[0] === 'inspect') {
    if (o.certDir) extra.push('--tls-verify=true', '--cert-dir', o.certDir)
    else extra.push('--tls-verify=false')
    if (o.authFile) extra.push('--authfile', o.authFile)
    else if (o.auth) extra.push('--creds', `${o.auth.user}:${o.auth.password}`)
    else extra.push('--no-creds')
  }
  return new Promise((resolve, reject) => {
    execFile(
      'skopeo',
      [...args.slice(0, 1), ...extra, ...args.slice(1)],
      { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) {
          const e = /** @type {Error & {stderr?: string}} */ (
            new Error(`skopeo ${args.join(' ')}: ${stderr.toString('utf8').trim() || err.message}`)
          )
          e.stderr = stderr.toString('utf8')
          reject(e)
        } else resolve(stdout)
      }
    )
  })
}

/**
 * @typedef {{raw: Buffer, digest: string, json: any, mediaType: string}} RawManifest
 */

/**
 * `skopeo inspect --raw` of `docker://HOST/REF`: the exact bytes the registry serves and their sha256.
 * With `allowMissing`, a missing tag or repository resolves to null instead of rejecting.
 * @param {string} host
 * @param {string} ref  `repo:tag` or `repo@sha256:...`
 * @param {{auth?: Auth, authFile?: string, certDir?: string, allowMissing?: boolean}} [o]
 * @returns {Promise<RawManifest>}
 */
async function inspectRaw(host, ref, o = {}) {
  try {
    const raw = await skopeo(['inspect', '--raw', `docker://${host}/${ref}`], o)
    const json = JSON.parse(raw.toString('utf8'))
    return { raw, digest: sha256(raw), json, mediaType: json.mediaType }
  } catch (e) {
    if (o.allowMissing && /manifest unknown|name unknown|not found/i.test(String(/** @type {Error} */ (e).message))) {
      return /** @type {any} */ (null)
    }
    throw e
  }
}

/**
 * The image config (architecture, os, variant, ...) of a single-arch image.
 * @param {string} host
 * @param {string} ref
 * @param {{auth?: Auth, authFile?: string, certDir?: string}} [o]
 * @returns {Promise<any>}
 */
async function inspectConfig(host, ref, o = {}) {
  return JSON.parse((await skopeo(['inspect', '--config', '--raw', `docker://${host}/${ref}`], o)).toString('utf8'))
}

/**
 * Platforms of an index as `os/arch[/variant]` strings, sorted, attestation entries left out.
 * @param {any} index
 */
function platformsOf(index) {
  return (index.manifests ?? [])
    .filter((/** @type {any} */ m) => m.platform && m.platform.os !== 'unknown')
    .map((/** @type {any} */ m) => [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/'))
    .sort()
}

/**
 * Map `os/arch[/variant]` → child digest of an index.
 * @param {any} index
 * @returns {Record<string, string>}
 */
function digestsByPlatform(index) {
  /** @type {Record<string, string>} */
  const out = {}
  for (const m of index.manifests ?? []) {
    if (!m.platform || m.platform.os === 'unknown') continue
    out[[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')] = m.digest
  }
  return out
}

/**
 * Delete a tag's manifest (by digest) so the tag disappears; deletes are enabled on test registries.
 * @param {string} host
 * @param {string} repo
 * @param {string} digest
 * @param {Auth} [auth]
 */
async function deleteManifest(host, repo, digest, auth) {
  await call({ host, repo, auth }, 'DELETE', `/v2/${repo}/manifests/${digest}`, [202])
}

module.exports = {
  MT,
  sha256,
  pushImage,
  pushIndex,
  pushAttestation,
  attestationEntry,
  pushBlob,
  putManifest,
  inspectRaw,
  inspectConfig,
  platformsOf,
  digestsByPlatform,
  deleteManifest,
  skopeo
}
