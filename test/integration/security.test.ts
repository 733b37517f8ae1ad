/**
 * Issue 3: credentials (a registry demanding a login) and image truth (a mislabelled image, a
 * per-arch tag that is an index with an attestation entry). Issue 12: no child process and no file
 * the run writes ever holds a secret, and children get none of the runner's tokens.
 * The runs whose processes are sampled from /proc run the bundle (runAction); the others run src/ in
 * process (fixtures.run).
 */
import * as fs from 'node:fs'
import { randomUUID } from 'node:crypto'
import * as path from 'node:path'
import { startRegistry } from '../harness/registry'
import { pushImage, pushIndex, pushAttestation, attestationEntry, inspectRaw, MT } from '../harness/images'
import { runAction, ROOT } from '../harness/action'
import {
  run,
  TIMEOUT,
  expectExit,
  expectServedList,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  refs,
  servedDigests,
  visibleLog
} from './fixtures'

jest.setTimeout(TIMEOUT)

type Registry = Awaited<ReturnType<typeof startRegistry>>

/** Every file under `dir` whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = []
  if (!fs.existsSync(dir)) return hits
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) hits.push(...filesContaining(p, needle))
    else if (entry.isFile() && fs.readFileSync(p).includes(needle)) hits.push(p)
  }
  return hits
}

/** Watches every process's argv while a run is going on; returns the command lines that held `needle`. */
function watchArgv(needle: string): () => string[] {
  const seen = new Set<string>()
  const timer = setInterval(() => {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        if (cmd.includes(needle) && !cmd.includes('jest')) seen.add(cmd.replace(/\0/g, ' '))
      } catch {
        /* gone */
      }
    }
  }, 10)
  return () => {
    clearInterval(timer)
    return [...seen]
  }
}

describe('registry that demands a login (htpasswd)', () => {
  // Unique per run: watchArgv reads every process on the machine, and a test run beside this one
  // (its skopeo reads with --creds) would otherwise hold the same password.
  const auth = { user: 'ci-bot', password: `Pw-${randomUUID()}-never-shown` }
  let reg: Registry
  let open: Registry
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: auth })
    open = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
    await open?.stop()
  })

  test('username/password: publishes; the password never shows and the auth file is gone (dist/index.js)', async () => {
    const repo = 'auth/ok'
    const images = await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    const argv = watchArgv(auth.password)
    const r = await runAction(
      inputs([reg.host, open.host], repo, '1', ['x86_64', 'aarch64'], { aliases: 'latest', username: auth.user, password: auth.password }),
      { keepTemp: true }
    )
    const leakedArgv = argv()
    try {
      expectExit(r, 0)
      const out = outputsOf(r)
      expect(out).toMatchObject({ result: 'published', destinations: refs([reg.host, open.host], repo, ['1', 'latest']) })
      const d1 = await expectServedList([reg.host], repo, ['1', 'latest'], platformsOf(images), { auth })
      const d2 = await expectServedList([open.host], repo, ['1', 'latest'], platformsOf(images))
      expect(d1).toBe(d2)
      expect(out.digest).toBe(d1)
      // Masked (the runner consumes ::add-mask:: and never prints it) ...
      // (as core writes it: % escaped)
      expect(r.stdout).toContain(`::add-mask::${auth.password.replace(/%/g, '%25')}`)
      // ... and nowhere else: logs of every step, outputs, summary, state, argv.
      expect(visibleLog(r)).not.toContain(auth.password)
      expect(JSON.stringify(r.outputs)).not.toContain(auth.password)
      expect(r.summary).not.toContain(auth.password)
      expect(r.state).not.toContain(auth.password)
      expect(leakedArgv).toEqual([])
      // The temporary auth file (in RUNNER_TEMP) was deleted; nothing else in the run's dirs has it.
      expect(filesContaining(r.runnerTemp, auth.password)).toEqual([])
      expect(filesContaining(path.join(r.tempDir, 'home'), auth.password)).toEqual([])
      expect(r.localLists).toEqual([])
    } finally {
      fs.rmSync(r.tempDir, { recursive: true, force: true })
    }
  })

  test('username/password on a failing run: the auth file is gone too', async () => {
    const repo = 'auth/fail-cleanup'
    await pushArches(reg.host, repo, '1', ['x86_64'], { auth })
    // Fails after the credentials were used: the aarch64 tag holds an amd64 image.
    await pushImage({ host: reg.host, repo, tag: '1-aarch64', architecture: 'amd64', salt: 'mislabelled', auth })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64'], { username: auth.user, password: auth.password }), {
      keepTemp: true
    })
    try {
      expectExit(r, 1)
      expect(outputsOf(r).result).toBe('failed')
      // It failed on the image, not on the login: the credentials were in use.
      expect(r.stdout).toMatch(/::error::.*aarch64/)
      expect(r.stdout).not.toMatch(/unauthorized|authentication required/i)
      expect(filesContaining(r.runnerTemp, auth.password)).toEqual([])
      expect(visibleLog(r)).not.toContain(auth.password)
    } finally {
      fs.rmSync(r.tempDir, { recursive: true, force: true })
    }
  })

  test('a containers auth file (auth-file input) is used as given', async () => {
    const repo = 'auth/file'
    const images = await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'mp-authfile-'))
    try {
      const file = path.join(dir, 'auth.json')
      fs.writeFileSync(
        file,
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${auth.user}:${auth.password}`).toString('base64') } } }),
        { mode: 0o600 }
      )
      const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64'], { 'auth-file': file }))
      expectExit(r, 0)
      expect(outputsOf(r).digest).toBe(await expectServedList([reg.host], repo, ['1'], platformsOf(images), { auth }))
      expect(fs.existsSync(file)).toBe(true) // not the action's to delete
      expect(visibleLog(r)).not.toContain(auth.password)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a login made before the step (REGISTRY_AUTH_FILE) is honoured, reads included', async () => {
    const repo = 'auth/prior'
    const images = await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    // A current list the action must read (with the login) to see that nothing is lost.
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'mp-login-'))
    try {
      const file = path.join(dir, 'auth.json')
      fs.writeFileSync(
        file,
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${auth.user}:${auth.password}`).toString('base64') } } }),
        { mode: 0o600 }
      )
      const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']), { env: { REGISTRY_AUTH_FILE: file } })
      expectExit(r, 0)
      const digest = await expectServedList([reg.host], repo, ['1'], platformsOf(images), { auth })
      expect(outputsOf(r).digest).toBe(digest)
      const again = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']), { env: { REGISTRY_AUTH_FILE: file } })
      expectExit(again, 0)
      expect(outputsOf(again)).toMatchObject({ result: 'unchanged', digest })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('wrong password: fails at once, says unauthorized, nothing published anywhere', async () => {
    const repo = 'auth/wrong'
    await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    const wrong = 'Wrong-pw-5b2d-never-shown'
    const r = await run(inputs([reg.host, open.host], repo, '1', ['x86_64', 'aarch64'], { username: auth.user, password: wrong }))
    expectExit(r, 1)
    expect(outputsOf(r)).toMatchObject({ result: 'failed', destinations: [] })
    expect(r.stdout).toMatch(/::error::.*(unauthorized|authentication required)/i)
    expect(visibleLog(r)).not.toContain(wrong)
    expect(r.summary).not.toContain(wrong)
    expect(await servedDigests([open.host], repo, ['1'])).toEqual({ [`${open.host}/${repo}:1`]: null })
    expect(await servedDigests([reg.host], repo, ['1'], auth)).toEqual({ [`${reg.host}/${repo}:1`]: null })
    expect(r.localLists).toEqual([])
  })

  test('no credentials at all: fails, nothing published', async () => {
    const repo = 'auth/none'
    await pushArches(reg.host, repo, '1', ['x86_64'], { auth })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64']))
    expectExit(r, 1)
    expect(outputsOf(r).result).toBe('failed')
    expect(r.stdout).toMatch(/::error::.*(unauthorized|authentication required)/i)
    expect(await servedDigests([reg.host], repo, ['1'], auth)).toEqual({ [`${reg.host}/${repo}:1`]: null })
    expect(r.localLists).toEqual([])
  })
})

describe('registry that wants client certificates (cert-dir)', () => {
  let reg: Registry
  beforeAll(async () => {
    reg = await startRegistry({ tls: { clientCerts: true } })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('with cert-dir and tls-verify on: publishes over verified HTTPS', async () => {
    const repo = 'tls/ok'
    const images = await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { certDir: reg.certDir })
    const r = await run({
      ...inputs([reg.host], repo, '1', ['x86_64', 'aarch64']),
      'tls-verify': 'true',
      'cert-dir': reg.certDir as string
    })
    expectExit(r, 0)
    const digest = await expectServedList([reg.host], repo, ['1'], platformsOf(images), { certDir: reg.certDir })
    expect(outputsOf(r)).toMatchObject({ result: 'published', digest, destinations: [`${reg.host}/${repo}:1`] })
    expect(r.localLists).toEqual([])
  })

  test('without cert-dir: fails at once with a certificate error, nothing published', async () => {
    const repo = 'tls/none'
    await pushArches(reg.host, repo, '1', ['x86_64'], { certDir: reg.certDir })
    const r = await run({ ...inputs([reg.host], repo, '1', ['x86_64']), 'tls-verify': 'true' })
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*(certificate|x509|tls)/i)
    expect(await inspectRaw(reg.host, `${repo}:1`, { certDir: reg.certDir, allowMissing: true })).toBeNull()
    expect(r.localLists).toEqual([])
  })
})

describe('image truth', () => {
  let reg: Registry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('an -aarch64 tag whose config says amd64 fails, naming the arch; nothing published', async () => {
    const repo = 'truth/mislabelled'
    await pushImage({ host: reg.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    await pushImage({ host: reg.host, repo, tag: '1-aarch64', architecture: 'amd64', salt: 'really amd64' })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']))
    expectExit(r, 1)
    expect(outputsOf(r)).toMatchObject({ result: 'failed', destinations: [] })
    expect(r.stdout).toMatch(/::error::.*aarch64/)
    expect(r.stdout).toMatch(/::error::.*amd64/)
    expect(r.summary).toMatch(/aarch64/)
    expect(await inspectRaw(reg.host, `${repo}:1`, { allowMissing: true })).toBeNull()
    expect(r.localLists).toEqual([])
  })

  test('a wrong variant is caught too (armhfp tag holding arm/v6)', async () => {
    const repo = 'truth/variant'
    await pushImage({ host: reg.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    await pushImage({ host: reg.host, repo, tag: '1-armhfp', architecture: 'arm', variant: 'v6' })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'armhfp']))
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*armhfp/)
    expect(await inspectRaw(reg.host, `${repo}:1`, { allowMissing: true })).toBeNull()
  })

  test('a per-arch tag that is an index with an attestation entry is resolved to the child image', async () => {
    const repo = 'truth/index-source'
    const children: Record<string, { digest: string }> = {}
    for (const [arch, architecture] of [
      ['x86_64', 'amd64'],
      ['aarch64', 'arm64']
    ]) {
      const img = await pushImage({ host: reg.host, repo, architecture, salt: 'buildx' })
      const att = await pushAttestation({ host: reg.host, repo, subject: img.digest })
      await pushIndex({ host: reg.host, repo, tag: `1-${arch}`, manifests: [img, attestationEntry(att, img.digest)] })
      children[arch] = img
    }
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']))
    expectExit(r, 0)
    const digest = await expectServedList(
      [reg.host],
      repo,
      ['1'],
      { 'linux/amd64': children.x86_64.digest, 'linux/arm64': children.aarch64.digest },
      { entryMediaType: MT.ociManifest }
    )
    expect(outputsOf(r)).toMatchObject({ result: 'published', digest, arches: ['x86_64', 'aarch64'] })
    const served = await inspectRaw(reg.host, `${repo}:1`)
    expect(JSON.stringify(served.json)).not.toContain('attestation-manifest')
    expect(r.localLists).toEqual([])
  })

  test('a per-arch index holding several platforms gives each arch its own child', async () => {
    const repo = 'truth/multi-index-source'
    const amd = await pushImage({ host: reg.host, repo, architecture: 'amd64', salt: 'multi' })
    const arm = await pushImage({ host: reg.host, repo, architecture: 'arm64', salt: 'multi' })
    // Both arch tags point at the same two-platform index.
    await pushIndex({ host: reg.host, repo, tag: '1-x86_64', manifests: [amd, arm] })
    await pushIndex({ host: reg.host, repo, tag: '1-aarch64', manifests: [amd, arm] })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']))
    expectExit(r, 0)
    await expectServedList([reg.host], repo, ['1'], { 'linux/amd64': amd.digest, 'linux/arm64': arm.digest })
  })

  test('a per-arch index without that arch fails, naming it', async () => {
    const repo = 'truth/index-wrong'
    await pushImage({ host: reg.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    const amd = await pushImage({ host: reg.host, repo, architecture: 'amd64', salt: 'other' })
    await pushIndex({ host: reg.host, repo, tag: '1-aarch64', manifests: [amd] })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']))
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*aarch64/)
    expect(await inspectRaw(reg.host, `${repo}:1`, { allowMissing: true })).toBeNull()
    expect(r.localLists).toEqual([])
  })

  test('a per-arch index with two entries for the same platform is refused', async () => {
    const repo = 'truth/index-dup'
    await pushImage({ host: reg.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    const a = await pushImage({ host: reg.host, repo, architecture: 'arm64', salt: 'one' })
    const b = await pushImage({ host: reg.host, repo, architecture: 'arm64', salt: 'two' })
    await pushIndex({ host: reg.host, repo, tag: '1-aarch64', manifests: [a, b] })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64', 'aarch64']))
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*aarch64/)
    expect(await inspectRaw(reg.host, `${repo}:1`, { allowMissing: true })).toBeNull()
  })

  test('a current list with a platform no arch name maps to fails loudly, naming it', async () => {
    const repo = 'truth/unknown-platform'
    const mips = await pushImage({ host: reg.host, repo, architecture: 'mips64le', salt: 'old' })
    const oldAmd = await pushImage({ host: reg.host, repo, architecture: 'amd64', salt: 'old' })
    const current = await pushIndex({ host: reg.host, repo, tag: '1', manifests: [oldAmd, mips] })
    await pushImage({ host: reg.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    const r = await run(inputs([reg.host], repo, '1', ['x86_64'], { 'missing-arch-policy': 'drop' }))
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*linux\/mips64le/)
    expect((await inspectRaw(reg.host, `${repo}:1`)).digest).toBe(current.digest)
    // Named with arch-map, it can be dropped deliberately.
    const named = await run(
      inputs([reg.host], repo, '1', ['x86_64'], { 'missing-arch-policy': 'drop', 'arch-map': '{mips64el: linux/mips64le}' })
    )
    expectExit(named, 0)
    expect(outputsOf(named).lost).toEqual(['mips64el'])
    const imgs = await servedDigests([reg.host], repo, ['1'])
    expect(imgs[`${reg.host}/${repo}:1`]).not.toBe(current.digest)
  })
})

/** What one process looked like when sampled. */
interface Sample {
  pid: number
  exe: string
  argv: string[]
  env: Record<string, string>
}

/**
 * Samples, every few ms, the argv (/proc/<pid>/cmdline) and environment (/proc/<pid>/environ) of
 * every process descended from the run's node steps (found by `marker` in their environment). A fork
 * that has not exec'd yet is still node with node's environment, so node images are not samples.
 * A process that exits between the reads of its argv and its environment reads as an empty
 * environment, so an environment counts only if the same argv is read after it. A pid is known by
 * its start time too: one reused by another process is not the run's child it once was.
 */
function sampleChildren(marker: string): () => Sample[] {
  const node = fs.realpathSync(process.execPath)
  /** Each pid's parent when first seen (kept after it exits, so its orphans still count) and start time. */
  const known = new Map<number, { ppid: number; start: string }>()
  const roots = new Set<number>()
  const samples = new Map<string, Sample>()
  const read = (pid: number, what: string): string => fs.readFileSync(`/proc/${pid}/${what}`, 'utf8')
  const tick = (): void => {
    const alive = fs
      .readdirSync('/proc')
      .filter(n => /^\d+$/.test(n))
      .map(Number)
    for (const pid of alive) {
      try {
        const stat = read(pid, 'stat')
        // Fields after the command name: state, ppid, …; the start time is field 22.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (known.get(pid)?.start !== fields[19]) {
          known.set(pid, { ppid: Number(fields[1]), start: fields[19] })
          roots.delete(pid)
        }
        const exe = fs.readlinkSync(`/proc/${pid}/exe`)
        if (exe === node) {
          if (
            !roots.has(pid) &&
            /dist\/(post\/)?index\.js\0/.test(read(pid, 'cmdline')) &&
            `\0${read(pid, 'environ')}`.includes(`\0${marker}\0`)
          )
            roots.add(pid)
          continue
        }
        let p = known.get(pid)?.ppid
        for (let hops = 0; p !== undefined && !roots.has(p) && hops < 20; hops++) p = known.get(p)?.ppid
        if (p === undefined || !roots.has(p)) continue
        const cmdline = read(pid, 'cmdline')
        if (!cmdline) continue // a zombie: nothing left to read
        const environ = read(pid, 'environ')
        if (read(pid, 'cmdline') !== cmdline) continue // exited (or exec'd) meanwhile: not its environment
        const argv = cmdline.split('\0').filter(Boolean)
        const env = Object.fromEntries(
          environ
            .split('\0')
            .filter(Boolean)
            .map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
        )
        samples.set(`${pid} ${argv.join(' ')}`, { pid, exe, argv, env })
      } catch {
        /* gone, or not ours to read */
      }
    }
  }
  const timer = setInterval(tick, 5)
  return () => {
    clearInterval(timer)
    return [...samples.values()]
  }
}

/** Files under `dir` (recursively) whose bytes contain any of `needles`, with the needle found. */
function filesHolding(dir: string, needles: string[]): string[] {
  const hits: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) hits.push(...filesHolding(p, needles))
    else if (entry.isFile()) {
      const bytes = fs.readFileSync(p)
      for (const n of needles) if (bytes.includes(n)) hits.push(`${p}: ${JSON.stringify(n)}`)
    }
  }
  return hits
}

describe('secrets never reach a child process or a file (htpasswd registry, a real publish)', () => {
  // Spaces at both ends (read untrimmed, or the login fails), and characters that URL- and JSON-encode.
  const auth = { user: 'ci-bot', password: '  Pw 9f3e/1c7a+%&="never-shown"  ' }
  const base64 = Buffer.from(`${auth.user}:${auth.password}`).toString('base64')
  const FORMS = [auth.password, auth.password.trim(), base64, encodeURIComponent(auth.password), JSON.stringify(auth.password).slice(1, -1)]
  const TOKENS = {
    ACTIONS_RUNTIME_TOKEN: 'fake-runtime-token-3c1f',
    ACTIONS_RUNTIME_URL: 'https://pipelines.invalid/fake-runtime-url-3c1f',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'fake-oidc-token-3c1f',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.invalid/fake-oidc-url-3c1f',
    ACTIONS_RESULTS_URL: 'https://results.invalid/fake-results-3c1f',
    ACTIONS_CACHE_URL: 'https://cache.invalid/fake-cache-3c1f',
    GITHUB_TOKEN: 'fake-github-token-3c1f',
    GH_TOKEN: 'fake-gh-token-3c1f',
    GITEA_TOKEN: 'fake-gitea-token-3c1f',
    FORGEJO_TOKEN: 'fake-forgejo-token-3c1f'
  }
  let reg: Registry
  let open: Registry
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: auth })
    open = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
    await open?.stop()
  })

  test('no child sees a secret, an input or a runner token; no file written holds a secret', async () => {
    const repo = 'secrets/children'
    const images = await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    const marker = `MP_RUN_MARKER=${randomUUID()}`
    const stop = sampleChildren(marker)
    const r = await runAction(
      inputs([reg.host, open.host], repo, '1', ['x86_64', 'aarch64'], { aliases: 'latest', username: auth.user, password: auth.password }),
      {
        actionDir: process.env.MP_ACTION_DIR || ROOT,
        keepTemp: true,
        env: { [marker.split('=')[0]]: marker.split('=')[1], ...TOKENS, MP_USER_SETTING: 'kept' }
      }
    )
    const samples = stop()
    try {
      expectExit(r, 0)
      expect(outputsOf(r).result).toBe('published')
      await expectServedList([reg.host], repo, ['1', 'latest'], platformsOf(images), { auth })

      // The sampling saw the children that matter.
      const tools = new Set(samples.map(s => path.basename(s.exe)))
      expect(tools).toContain('buildah')
      expect(tools).toContain('skopeo')

      for (const s of samples) {
        const what = `${s.pid} ${s.argv.join(' ')}`
        const text = [...s.argv, ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`)].join('\n')
        expect({ what, secrets: FORMS.filter(f => text.includes(f)) }).toEqual({ what, secrets: [] })
        expect({ what, tokens: Object.values(TOKENS).filter(t => text.includes(t)) }).toEqual({ what, tokens: [] })
        const privateNames = Object.keys(s.env).filter(
          k => /^INPUT_/i.test(k) || k in TOKENS || /^GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY)$/.test(k)
        )
        expect({ what, privateNames }).toEqual({ what, privateNames: [] })
        // What the user set for the tools is still there.
        expect({ what, kept: [s.env.MP_USER_SETTING, s.env.CONTAINERS_STORAGE_CONF !== undefined] }).toEqual({ what, kept: ['kept', true] })
      }

      // Every file the run wrote: RUNNER_TEMP, HOME, the containers storage, GITHUB_OUTPUT/STATE/ENV/PATH/STEP_SUMMARY.
      expect(filesHolding(r.tempDir, FORMS)).toEqual([])
      // The log holds the secrets only in the ::add-mask:: commands a runner consumes.
      const visible = visibleLog(r)
      expect(FORMS.filter(f => visible.includes(f))).toEqual([])
      // (as core writes it: % escaped)
      expect(r.stdout).toContain(`::add-mask::${auth.password.replace(/%/g, '%25')}`)
      expect(r.stdout).toContain(`::add-mask::${base64}`)
    } finally {
      fs.rmSync(r.tempDir, { recursive: true, force: true })
    }
  })
})
