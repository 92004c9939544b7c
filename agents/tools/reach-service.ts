/**
 * `fetch` for a tool that calls a public web service. When the service cannot be reached at
 * all (no network, no DNS, a refused connection), the error says so in one plain sentence
 * naming the service: after the tool's retries that sentence is what the model reads, and
 * what it tells the person. Cancellation (the run stopped) passes through unchanged.
 */
export async function reachService(service: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as Error).name === 'AbortError' || init.signal?.aborted) throw error;
    const code = (error as { cause?: { code?: string } }).cause?.code;
    const host = new URL(url).host;
    const why =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'its name does not resolve, so this machine seems to have no internet access'
        : code === 'ECONNREFUSED'
          ? 'the connection was refused'
          : code
            ? `the network said ${code}`
            : 'the request did not get through';
    throw new Error(`Could not reach ${service} (${host}): ${why}. The tool needs network access; nothing was looked up.`);
  }
}
