import * as z from 'zod';
import { defineTool, ToolInputError } from '../../authoring/define-tool.ts';
import { reachService } from './reach-service.ts';

export interface WeatherAlertsOptions {
  /** National Weather Service API. @default 'https://api.weather.gov' */
  baseUrl?: string;
  /** NWS asks every client to identify itself. @default 'durable-agents (weather tool)' */
  userAgent?: string;
}

const US_STATES = new Set(
  'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY'.split(
    ' ',
  ),
);

export interface AlertFeature {
  /** The alert's URL, its stable id. */
  id?: string;
  properties?: {
    id?: string;
    event?: string;
    headline?: string;
    severity?: string;
    areaDesc?: string;
    instruction?: string;
    ends?: string;
  };
}

/** Active alerts of one US state (`/alerts/active?area=XX`); a bad state or a refusal is a `ToolInputError`. */
export async function fetchActiveAlerts(
  options: WeatherAlertsOptions,
  state: string,
  signal?: AbortSignal,
): Promise<{ state: string; features: AlertFeature[] }> {
  const baseUrl = (options.baseUrl ?? 'https://api.weather.gov').replace(/\/+$/, '');
  const code = state.toUpperCase();
  if (!US_STATES.has(code)) throw new ToolInputError(`"${state}" is not a US state code.`, 'UnknownState');
  const response = await reachService('the National Weather Service', `${baseUrl}/alerts/active?area=${code}`, {
    headers: { 'User-Agent': options.userAgent ?? 'durable-agents (weather tool)', Accept: 'application/geo+json' },
    ...(signal ? { signal } : {}),
  });
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw new ToolInputError(`The weather service answered ${response.status} for ${code}.`, 'WeatherServiceRejected');
  }
  if (!response.ok) throw new Error(`Weather service unavailable: HTTP ${response.status}`);
  const body = (await response.json()) as { features?: AlertFeature[] };
  return { state: code, features: body.features ?? [] };
}

export function createWeatherAlertsTool(options: WeatherAlertsOptions = {}) {
  return defineTool({
    name: 'get_weather_alerts',
    readOnly: true,
    description: 'Active weather alerts for a US state, from the National Weather Service.',
    input: z.object({
      state: z.string().length(2).describe('Two-letter US state code, e.g. "CA" or "NY".'),
    }),
    timeout: '20 seconds',
    retry: { maximumAttempts: 3, initialInterval: '2 seconds' },
    async handler({ state }, { signal }) {
      const { state: code, features } = await fetchActiveAlerts(options, state, signal);
      return {
        state: code,
        count: features.length,
        alerts: features.slice(0, 10).map(({ properties = {} }) => ({
          event: properties.event,
          headline: properties.headline,
          severity: properties.severity,
          areas: properties.areaDesc,
          ends: properties.ends,
        })),
      };
    },
  });
}
