import { isIP } from 'node:net';
import * as z from 'zod';
import { defineTool, ToolInputError } from '../../authoring/define-tool.ts';
import { reachService } from './reach-service.ts';

export interface IpLocationOptions {
  /** ip-api.com compatible service. @default 'http://ip-api.com' */
  baseUrl?: string;
}

interface IpApiAnswer {
  status?: 'success' | 'fail';
  message?: string;
  country?: string;
  regionName?: string;
  city?: string;
  lat?: number;
  lon?: number;
  timezone?: string;
}

export function createIpLocationTool(options: IpLocationOptions = {}) {
  const baseUrl = (options.baseUrl ?? 'http://ip-api.com').replace(/\/+$/, '');
  return defineTool({
    name: 'get_ip_location',
    readOnly: true,
    description: 'The approximate location (city, region, country, time zone) of a public IP address.',
    input: z.object({
      ip: z.string().max(45).describe('An IPv4 or IPv6 address, e.g. "8.8.8.8".'),
    }),
    timeout: '15 seconds',
    retry: { maximumAttempts: 3, initialInterval: '2 seconds' },
    async handler({ ip }, { signal }) {
      if (!isIP(ip)) throw new ToolInputError(`"${ip}" is not an IP address.`, 'InvalidIp');
      const response = await reachService('the IP location service', `${baseUrl}/json/${encodeURIComponent(ip)}`, { signal });
      if (!response.ok) throw new Error(`IP location service unavailable: HTTP ${response.status}`);
      const body = (await response.json()) as IpApiAnswer;
      if (body.status !== 'success') {
        throw new ToolInputError(`No location for ${ip}: ${body.message ?? 'unknown reason'}.`, 'IpNotLocated');
      }
      return { ip, city: body.city, region: body.regionName, country: body.country, lat: body.lat, lon: body.lon, timezone: body.timezone };
    },
  });
}
