/** src/skopeo.ts: the commands skopeo is given and what is made of its answers. */
import { sha256 } from '../../src/manifest'
import { Skopeo } from '../../src/skopeo'
import { amd64, list } from './builders'

describe('Skopeo.digest', () => {
  test('the digest of the bytes served, read afresh; null when there is nothing', async () => {
    const raw = list([{ digest: `sha256:${'a'.repeat(64)}`, platform: amd64 }])
    const skopeo = new Skopeo({ tlsVerify: true, env: {}, retries: 0 })
    const manifest = jest.spyOn(skopeo, 'manifest').mockResolvedValueOnce(raw).mockResolvedValueOnce(null)
    expect(await skopeo.digest('r.example/x:1')).toBe(sha256(raw))
    expect(await skopeo.digest('r.example/x:1')).toBeNull()
    expect(manifest).toHaveBeenCalledWith('r.example/x:1', { fresh: true })
  })
})
