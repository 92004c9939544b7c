import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandIn {
  url: string;
  /** Request paths (with query) in arrival order. */
  calls: string[];
  close(): Promise<void>;
}

export type Route = (url: URL, request: IncomingMessage) => { status?: number; body: unknown } | undefined;

/** A local HTTP server answering JSON by `route` (404 where it answers nothing), recording each request's path. */
export async function startStandIn(route: Route): Promise<StandIn> {
  const calls: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    calls.push(url.pathname + url.search);
    const answer = route(url, request) ?? { status: 404, body: { title: 'Not Found' } };
    response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The National Weather Service's `/alerts/active?area=XX`, with one alert for CA and none elsewhere. */
export function startWeatherStandIn(): Promise<StandIn> {
  return startStandIn((url, request) => {
    if (url.pathname !== '/alerts/active') return undefined;
    if (!request.headers['user-agent']) return { status: 403, body: { title: 'A User-Agent is required' } };
    const area = url.searchParams.get('area');
    const features =
      area === 'CA'
        ? [
            {
              properties: {
                event: 'Red Flag Warning',
                headline: 'Red Flag Warning for the Bay Area',
                severity: 'Severe',
                areaDesc: 'San Francisco Bay',
              },
            },
          ]
        : [];
    return { body: { type: 'FeatureCollection', features } };
  });
}

/** ip-api.com's `/json/{ip}`. */
export function startIpLocationStandIn(): Promise<StandIn> {
  const known: Record<string, object> = {
    '8.8.8.8': {
      city: 'Mountain View',
      regionName: 'California',
      region: 'CA',
      country: 'United States',
      lat: 37.4,
      lon: -122.1,
      timezone: 'America/Los_Angeles',
    },
    '1.1.1.1': {
      city: 'New York',
      regionName: 'New York',
      region: 'NY',
      country: 'United States',
      lat: 40.7,
      lon: -74,
      timezone: 'America/New_York',
    },
  };
  return startStandIn((url) => {
    const match = /^\/json\/(.+)$/.exec(url.pathname);
    if (!match) return undefined;
    const ip = decodeURIComponent(match[1]!);
    const hit = known[ip];
    return { body: hit ? { status: 'success', query: ip, ...hit } : { status: 'fail', message: 'reserved range', query: ip } };
  });
}
