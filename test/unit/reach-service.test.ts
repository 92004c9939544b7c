import { describe, expect, it } from 'vitest';
import { reachService } from '../../agents/tools/reach-service.ts';
import { freePort } from '../../local/free-port.ts';

describe('a tool that cannot reach its service says so plainly', () => {
  it('names the service and the missing network when the name does not resolve', async () => {
    await expect(reachService('the National Weather Service', 'http://api.weather.invalid/alerts', {})).rejects.toThrow(
      /^Could not reach the National Weather Service \(api\.weather\.invalid\): its name does not resolve, so this machine seems to have no internet access\. The tool needs network access; nothing was looked up\.$/,
    );
  });

  it('says the connection was refused', async () => {
    const port = await freePort();
    await expect(reachService('the IP location service', `http://127.0.0.1:${port}/json/8.8.8.8`, {})).rejects.toThrow(
      `Could not reach the IP location service (127.0.0.1:${port}): the connection was refused.`,
    );
  });

  it('lets a cancellation through as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(reachService('a service', 'http://127.0.0.1:8/', { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
