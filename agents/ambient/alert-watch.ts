import { createHash } from 'node:crypto';
import type { AmbientCheck } from '../../core/ambient.ts';
import { fetchActiveAlerts, type AlertFeature, type WeatherAlertsOptions } from '../tools/weather-alerts.ts';

/** Alert ids a cursor remembers; the oldest are forgotten past this. */
const MAX_REMEMBERED_ALERTS = 200;

/**
 * The weather watcher's check: fetches the active alerts of its states and compares their ids
 * with the cursor (the ids seen by the last run, hashed short). No alert it has not seen:
 * quiet, no model call. Otherwise the prompt gets the new alerts and the cursor the ids of
 * every active one, so an alert is reported once however long it stays active.
 */
export function createAlertWatchCheck(options: WeatherAlertsOptions & { states: string[] }): AmbientCheck {
  return async ({ cursor, signal }) => {
    const seen = new Set(cursor ? cursor.split(' ').filter(Boolean) : []);
    const active: { state: string; id: string; feature: AlertFeature }[] = [];
    for (const state of options.states) {
      const { state: code, features } = await fetchActiveAlerts(options, state, signal);
      for (const feature of features) active.push({ state: code, id: alertId(feature), feature });
    }
    const fresh = active.filter((alert) => !seen.has(alert.id));
    if (fresh.length === 0) {
      return {
        quiet: true,
        reason: `no new weather alert for ${options.states.join(', ')} (${active.length} active, all reported before)`,
      };
    }
    const ids = [...new Set(active.map((alert) => alert.id))].slice(-MAX_REMEMBERED_ALERTS);
    const lines = fresh.map(
      ({ state, feature: { properties = {} } }) =>
        `- [${state}] ${properties.headline ?? properties.event ?? 'Weather alert'} (${[properties.severity, properties.areaDesc, properties.ends ? `until ${properties.ends}` : undefined].filter(Boolean).join('; ')})`,
    );
    return {
      quiet: false,
      cursor: ids.join(' '),
      context: [`New weather alerts since the last run (${fresh.length} of ${active.length} active):`, ...lines].join('\n'),
    };
  };
}

/** The alert's own id when it has one (NWS gives a URL), else a hash of what it says. */
function alertId(feature: AlertFeature): string {
  const source =
    feature.id ??
    feature.properties?.id ??
    JSON.stringify([feature.properties?.event, feature.properties?.headline, feature.properties?.areaDesc]);
  return createHash('sha256').update(source).digest('hex').slice(0, 16);
}
