import * as z from 'zod';
import { defineTool, ToolInputError } from '../../authoring/define-tool.ts';

export const currentTimeTool = defineTool({
  name: 'get_current_time',
  readOnly: true,
  description: 'The current date and time in an IANA time zone, e.g. Asia/Tokyo or Europe/Paris.',
  input: z.object({
    timezone: z.string().min(1).max(64).describe('IANA time zone name, e.g. "Asia/Tokyo", "America/New_York", "UTC".'),
  }),
  timeout: '5 seconds',
  handler({ timezone }) {
    let formatter: Intl.DateTimeFormat;
    try {
      formatter = new Intl.DateTimeFormat('en-GB', {
        timeZone: timezone,
        dateStyle: 'full',
        timeStyle: 'long',
      });
    } catch {
      throw new ToolInputError(`"${timezone}" is not an IANA time zone; use a name like "Asia/Tokyo".`, 'UnknownTimeZone');
    }
    const now = new Date();
    return { timezone, local: formatter.format(now), iso: now.toISOString() };
  },
});
