// A meter's data as the query API and the household dashboard read it: the
// meters a caller sees, their readings and consumption series (JSON or CSV),
// and the dashboard's aggregates (overview, profile, history, alerts), each
// at the resolution it shows.

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoUtc } from '../../src/time/zone';
import type { SeriesKind } from '../../src/formats/entries';
import { HttpError } from '../auth';
import type { Clock } from '../clock';
import {
  addDays, addMonths, alertSettingsSchema, byDay, cost, dateOf, evaluateAlerts, EXPORT, flow, generationTotals, IMPORT, kWhSeries, localDay, selfConsumption, sumSeries, tariffSchema, totals,
} from '../dashboard';
import { requireCaller } from '../http/access';
import { invalid } from '../http/validation';
import { csv, wantsCsv } from '../http/csv';
import { apiKind, content, flags, meterParams, queryTime, refusals, text, utcTime, zone } from '../http/schemas';
import { boundaries, consumption, MAX_INTERVALS, STEPS, type Step } from '../series';
import { METER_ROLES, type LiveStore, type Meter, type MeterRole, type ReadingStore, type RegistryStore, type SettingsStore, type StoredReading } from '../store';
import { resolvePath, zoneOf } from './visibility';
import { KINDS, range } from '../http/reading-query';
import { flagsOf } from '../../src/mqtt/omdp';
import { alertSettingsOf, tariffOf } from './household-settings';

export interface MeterOptions {
  registry: RegistryStore;
  readings: ReadingStore;
  settings: SettingsStore;
  /** For the overview's current power. */
  live: Pick<LiveStore, 'latestLive'>;
  clock: Clock;
}

/** A live value this old is still the overview's "current power" (unwatched devices push once a minute). */
const LIVE_FRESH_MS = 3 * 60000;

const meterRole = z.enum(METER_ROLES as [MeterRole, ...MeterRole[]]).meta({
  description: 'What the meter measures: `grid`, the household\'s grid connection (the default), or `generation`, the output of its PV system (a generation meter: 1-0:2.8.0 is what the PV system delivered).',
});
const meter = z
  .object({ id: z.string(), householdId: z.string(), deviceId: z.string().meta({ description: 'The device that last delivered its readings.' }), role: meterRole, firstSeen: utcTime, lastSeen: utcTime })
  .strict();

const registerValue = z.object({ value: z.number(), unit: z.string() }).strict();
const reading = z.object({ time: utcTime, kind: apiKind, values: z.record(z.string(), registerValue).meta({ description: 'Registers by OBIS code.' }), flags }).strict();
const gap = z
  .object({
    from: utcTime.meta({ description: 'First boundary without a reading.' }),
    to: utcTime.meta({ description: 'Last boundary without a reading (inclusive).' }),
    count: z.number().int().min(1),
    kind: apiKind,
    reason: z.string().meta({ description: 'no-telegram, not-running, no-time or clock-jump.' }),
  })
  .strict();
const seriesPoint = z
  .object({
    from: utcTime,
    to: utcTime,
    value: z.number().nullable().meta({ description: 'Register difference in `unit`; null for a gap.' }),
    flags: z.array(z.string()).meta({ description: '`gap` and one `TIME: reason` per boundary without a reading; `register went back` for a negative difference.' }),
  })
  .strict();

const format = z.enum(['json', 'csv']).optional().meta({ description: 'csv, or json; without it, CSV when the Accept header asks for text/csv.' });
const obisCode = z.string().regex(/^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'an OBIS code such as 1-0:1.8.0');
const dateParam = z.string().max(10).optional().meta({ description: 'A local date YYYY-MM-DD; default: the day of the newest quarter-hour reading.' });

const readingsQuery = z.object({ from: queryTime, to: queryTime, kind: apiKind.optional(), format }).strict();
const seriesQuery = z.object({ from: queryTime, to: queryTime, step: z.enum(STEPS as [Step, ...Step[]]), obis: obisCode, format }).strict();
const dayQuery = z.object({ date: dateParam }).strict();
const profileQuery = z.object({ date: dateParam, days: z.enum(['1', '7']).optional(), format }).strict();
const historyQuery = z.object({ step: z.enum(['1d', '1mo']), date: dateParam, format }).strict();

const kWhList = (description: string) => z.array(z.number().nullable()).meta({ description });
const counts = {
  importKWh: z.number().meta({ description: "Sum of the intervals' import (1-0:1.8.0) in kWh; gaps count as nothing." }),
  exportKWh: z.number().meta({ description: "Sum of the intervals' export (1-0:2.8.0) in kWh." }),
  missing: z.number().int().min(0).meta({ description: 'Intervals without a value in either register (left out of the sums).' }),
  intervals: z.number().int().min(0),
};
const flowTotals = z.object(counts).strict();
const costOf = z
  .object({
    currency: z.string(),
    import: z.number().meta({ description: "Each quarter-hour's import at the price of its start time (local), summed." }),
    export: z.number().meta({ description: 'Export at the feed-in price.' }),
    net: z.number().meta({ description: 'import - export.' }),
  })
  .strict();
const overviewPeriod = z
  .object({
    period: z.string(),
    from: utcTime,
    to: utcTime,
    ...counts,
    cost: costOf,
    days: z.array(z.object({ date: z.string(), ...counts }).strict()).optional().meta({ description: "This month only: the totals of each local day so far, from the same quarter-hours (the monthly report's rows)." }),
  })
  .strict();
const overview = z
  .object({
    meterId: z.string(),
    zone,
    date: z.string(),
    latestReading: utcTime.nullable(),
    unit: z.literal('kWh'),
    tariff: tariffSchema,
    current: z
      .object({ time: utcTime, power: z.number().meta({ description: 'Net active power, W: positive import, negative feed-in.' }), unit: z.literal('W') })
      .strict()
      .nullable()
      .meta({ description: 'The newest live value, when it is at most 3 minutes old; null otherwise.' }),
    today: overviewPeriod,
    sameDayLastWeek: overviewPeriod,
    month: overviewPeriod,
    lastMonth: overviewPeriod,
    lastYear: overviewPeriod,
  })
  .strict();
const flowFields = {
  unit: z.literal('kWh'),
  from: utcTime,
  to: utcTime,
  t: z.array(z.number()).meta({ description: 'Interval starts in Unix seconds.' }),
  import: kWhList('Import (1-0:1.8.0) per interval, kWh; null where a boundary has no reading (a gap): nothing is interpolated.'),
  export: kWhList('Export (1-0:2.8.0) per interval, kWh; null for a gap.'),
  totals: flowTotals,
};
const profile = z.object({ meterId: z.string(), zone, date: z.string(), days: z.number().int(), step: z.literal('15m'), ...flowFields }).strict();
const history = z
  .object({
    meterId: z.string(),
    role: meterRole,
    zone,
    date: z.string(),
    step: z.enum(['1d', '1mo']),
    ...flowFields,
    generationMeters: z.array(z.string()).optional().meta({ description: "Present where generation is known: the meter itself (a generation meter), or the household's generation meters (a grid meter)." }),
    generation: kWhList("PV generation per interval, kWh: a generation meter's own export, or for a grid meter the sum of the household's generation meters' 1-0:2.8.0 differences (null where any is a gap). Absent without a generation meter.").optional(),
    selfConsumption: kWhList("For a grid meter with generation: generation minus the grid meter's export per interval, not below 0, kWh; null where either is null. Absent otherwise.").optional(),
    generationTotals: z
      .object({
        generationKWh: z.number(),
        selfConsumptionKWh: z.number().nullable(),
        selfConsumptionShare: z.number().nullable().meta({ description: 'Self-consumption / generation (0..1) over the intervals where both are known.' }),
        autarkyShare: z.number().nullable().meta({ description: "Self-consumption / (self-consumption + import) (0..1): the share of the household's use its PV covered." }),
        missing: z.number().int().min(0),
      })
      .strict()
      .optional(),
  })
  .strict();
const alert = z
  .object({ kind: z.enum(['base-load', 'peak', 'no-data']), from: utcTime, to: utcTime, value: z.number().meta({ description: 'W (base-load), kW (peak), hours (no-data).' }), threshold: z.number(), message: z.string() })
  .strict();

/** A JSON answer, or the same as CSV. */
const jsonOrCsv = (description: string, json: z.ZodType) => content(description, { 'application/json': json, 'text/csv': text });
const meterRefusals = refusals(400, 401, 403, 404);

export const meterRoutes: FastifyPluginAsyncZod<MeterOptions> = async (app, o) => {
  const { registry, readings, settings, clock } = o;
  requireCaller(app, registry);
  resolvePath(app, registry);
  const access = ['admin', 'household'] as const;

  /** Consumption series of one or more registers of a meter over [from, to] at a step, from one read of the readings. */
  const seriesOf = async (m: Meter, zone: string, from: number, to: number, step: Step, obis: string[]) => {
    const points = boundaries(from, to, step, zone);
    if (points.length - 1 > MAX_INTERVALS) throw new HttpError(400, `more than ${MAX_INTERVALS} intervals: a longer step or a shorter range`);
    const daily = step === '1d' || step === '1mo';
    const end = points.length ? points[points.length - 1] + 1 : to;
    let found: StoredReading[];
    if (daily) {
      // The daily readings, and a quarter-hour reading only where a midnight has no daily one.
      found = await readings.readings(m.id, points[0] ?? from, end, ['daily']);
      const have = new Set(found.map((r) => r.time));
      found.push(...(await readings.readingsAt(m.id, 'taf7', points.filter((t) => !have.has(t)))));
    } else {
      found = await readings.readings(m.id, points[0] ?? from, end, ['taf7']);
    }
    const gaps = await readings.gaps(m.id, points[0] ?? from, end, daily ? ['daily', 'taf7'] : ['taf7']);
    const stepMs = step === '15m' ? 900000 : step === '1h' ? 3600000 : null;
    return obis.map((code) => consumption(points, found, gaps, code, stepMs));
  };

  /** The local day asked for, or the day of the meter's newest quarter-hour reading (today when it has none). */
  const dayOf = async (m: Meter, zone: string, date: string | undefined): Promise<{ day: number; latest: number | null }> => {
    const latest = await readings.latestReading(m.id, 'taf7');
    if (date === undefined) return { day: addDays(zone, latest ?? clock(), 0), latest };
    const day = localDay(zone, date);
    if (day === null) throw new HttpError(400, `invalid query: date: a calendar date YYYY-MM-DD between 2000 and 2100; got "${date}"`);
    return { day, latest };
  };
  const quarterFlow = async (m: Meter, zone: string, from: number, to: number) => {
    const [imp, exp] = await seriesOf(m, zone, from, to, '15m', [IMPORT, EXPORT]);
    return flow(imp, exp);
  };
  /** The newest live value's net power, when it is recent enough to be "now". */
  const currentPower = async (meterId: string): Promise<{ time: string; power: number; unit: 'W' } | null> => {
    const latest = await o.live.latestLive(meterId);
    const now = clock();
    if (!latest || latest.values.p === undefined || now - latest.time > LIVE_FRESH_MS) return null;
    return { time: isoUtc(latest.time), power: latest.values.p, unit: 'W' };
  };

  app.get(
    '/api/v1/meters',
    { config: { access }, schema: { tags: ['query'], operationId: 'listMeters', summary: 'The meters the caller sees (a household: its own)', response: { 200: z.object({ meters: z.array(meter) }).strict(), ...refusals(401, 403) } } },
    async (request) => {
      const meters = await registry.meters(request.caller.role === 'household' ? request.caller.householdId! : undefined);
      const roles = await settings.meterRoles(meters.map((m) => m.id));
      return { meters: meters.map((m) => ({ id: m.id, householdId: m.householdId, deviceId: m.deviceId, role: roles.get(m.id) ?? 'grid', firstSeen: isoUtc(m.firstSeen), lastSeen: isoUtc(m.lastSeen) })) };
    },
  );

  // What a meter measures: the household says which of its meters is a PV generation meter.
  app.post(
    '/api/v1/meters/:meterId/role',
    {
      config: { access },
      schemaErrorFormatter: invalid('role'),
      schema: {
        tags: ['dashboard'],
        operationId: 'setMeterRole',
        summary: 'Say what a meter measures',
        params: meterParams,
        body: z.object({ role: meterRole }).strict(),
        response: { 200: z.object({ meterId: z.string(), role: meterRole }).strict(), ...meterRefusals },
      },
    },
    async (request) => {
      const m = request.visible.meter!;
      await settings.setMeterRole(m.id, request.body.role);
      return { meterId: m.id, role: request.body.role };
    },
  );

  app.get(
    '/api/v1/meters/:meterId/readings',
    {
      config: { access },
      schema: {
        tags: ['query'],
        operationId: 'meterReadingsOfMeter',
        summary: "A meter's readings and gaps, from <= time < to",
        params: meterParams,
        querystring: readingsQuery,
        response: { 200: jsonOrCsv('The readings.', z.object({ meterId: z.string(), readings: z.array(reading), gaps: z.array(gap) }).strict()), ...meterRefusals },
      },
    },
    async (request, reply) => {
      const m = request.visible.meter!;
      const q = request.query;
      const { from, to } = range(q);
      const kinds = q.kind ? KINDS[q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
      const found = await readings.readings(m.id, from, to, kinds);
      const gaps = await readings.gaps(m.id, from, to, kinds);
      const out = found.map((r) => ({ time: isoUtc(r.time), kind: r.kind === 'taf7' ? ('taf7' as const) : ('taf6' as const), values: r.values, flags: flagsOf(r) }));
      const gapsOut = gaps.map((g) => ({ from: isoUtc(g.first), to: isoUtc(g.last), count: g.count, kind: g.kind === 'taf7' ? ('taf7' as const) : ('taf6' as const), reason: g.reason }));
      if (wantsCsv(request, q.format)) {
        const obis = [...new Set(found.flatMap((r) => Object.keys(r.values)))];
        const rows: unknown[][] = [['time', 'kind', ...obis.map((k) => `${k} (${found.find((r) => r.values[k])!.values[k].unit})`), 'flags']];
        for (const r of out) rows.push([r.time, r.kind, ...obis.map((k) => r.values[k]?.value ?? ''), r.flags.join(' ')]);
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${m.id}-readings.csv"`).send(csv(rows));
      }
      return { meterId: m.id, readings: out, gaps: gapsOut };
    },
  );

  app.get(
    '/api/v1/meters/:meterId/series',
    {
      config: { access },
      schema: {
        tags: ['query'],
        operationId: 'meterSeries',
        summary: 'Consumption of a register per interval, from register differences',
        description: 'Quarter-hours and hours in UTC, days and months at local midnight; a boundary without a reading makes its intervals gaps (nothing is interpolated). At most 10000 intervals.',
        params: meterParams,
        querystring: seriesQuery,
        response: {
          200: jsonOrCsv(
            'The series.',
            z.object({ meterId: z.string(), obis: z.string(), unit: z.string().nullable().meta({ description: 'null when no reading holds the register.' }), step: z.enum(STEPS as [Step, ...Step[]]), zone, series: z.array(seriesPoint) }).strict(),
          ),
          ...meterRefusals,
        },
      },
    },
    async (request, reply) => {
      const m = request.visible.meter!;
      const q = request.query;
      const { from, to } = range(q);
      const zone = await zoneOf(registry, m);
      const [{ unit, series }] = await seriesOf(m, zone, from, to, q.step, [q.obis]);
      if (wantsCsv(request, q.format)) {
        const rows: unknown[][] = [['from', 'to', `${q.obis} (${unit ?? ''})`, 'flags'], ...series.map((p) => [p.from, p.to, p.value ?? '', p.flags.join(' ')])];
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${m.id}-series.csv"`).send(csv(rows));
      }
      return { meterId: m.id, obis: q.obis, unit, step: q.step, zone, series };
    },
  );

  // ---- the household dashboard: aggregated at the resolution it shows ----

  app.get(
    '/api/v1/meters/:meterId/overview',
    {
      config: { access },
      schema: {
        tags: ['dashboard'],
        operationId: 'meterOverview',
        summary: "A day's import and export with its comparisons and cost",
        params: meterParams,
        querystring: dayQuery,
        response: { 200: overview, ...meterRefusals },
      },
    },
    async (request) => {
      const m = request.visible.meter!;
      const zone = await zoneOf(registry, m);
      const { day, latest } = await dayOf(m, zone, request.query.date);
      const { tariff } = await tariffOf(settings, m.householdId);
      const dayEnd = addDays(zone, day, 1);
      // Up to the newest reading when it falls in the day; the comparison periods cover as much of theirs.
      const cut = latest !== null && latest > day && latest < dayEnd ? latest : dayEnd;
      const month = addMonths(zone, day, 0);
      const period = async (name: string, from: number, to: number, days = false) => {
        const f = await quarterFlow(m, zone, from, to);
        return { period: name, from: isoUtc(from), to: isoUtc(to), ...totals(f), cost: cost(f, tariff, zone), ...(days ? { days: byDay(f, zone) } : {}) };
      };
      const elapsedDay = cut - day;
      const elapsedMonth = cut - month;
      const capped = (start: number, length: number, end: number) => Math.min(start + length, end);
      const lastWeek = addDays(zone, day, -7);
      const lastMonth = addMonths(zone, day, -1);
      const lastYearMonth = addMonths(zone, month, -12);
      return {
        meterId: m.id,
        zone,
        date: dateOf(zone, day),
        latestReading: latest === null ? null : isoUtc(latest),
        unit: 'kWh' as const,
        tariff,
        current: await currentPower(m.id),
        today: await period('today', day, cut),
        sameDayLastWeek: await period('same day last week', lastWeek, lastWeek + elapsedDay),
        month: await period('this month', month, cut, true),
        lastMonth: await period('same days of last month', lastMonth, capped(lastMonth, elapsedMonth, month)),
        lastYear: await period('same days of this month last year', lastYearMonth, capped(lastYearMonth, elapsedMonth, addMonths(zone, lastYearMonth, 1))),
      };
    },
  );

  app.get(
    '/api/v1/meters/:meterId/profile',
    {
      config: { access },
      schema: {
        tags: ['dashboard'],
        operationId: 'meterProfile',
        summary: 'Quarter-hours of import and export over one or seven days',
        params: meterParams,
        querystring: profileQuery,
        response: { 200: jsonOrCsv('The profile.', profile), ...meterRefusals },
      },
    },
    async (request, reply) => {
      const m = request.visible.meter!;
      const q = request.query;
      const zone = await zoneOf(registry, m);
      const { day } = await dayOf(m, zone, q.date);
      const days = Number(q.days ?? '1');
      const end = addDays(zone, day, days);
      const f = await quarterFlow(m, zone, day, end);
      if (wantsCsv(request, q.format)) {
        const rows: unknown[][] = [['from', `${IMPORT} (kWh)`, `${EXPORT} (kWh)`], ...f.t.map((t, i) => [isoUtc(t * 1000), f.import[i] ?? '', f.export[i] ?? ''])];
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${m.id}-profile.csv"`).send(csv(rows));
      }
      return { meterId: m.id, zone, date: dateOf(zone, day), days, step: '15m' as const, unit: 'kWh' as const, from: isoUtc(day), to: isoUtc(end), ...f, totals: totals(f) };
    },
  );

  app.get(
    '/api/v1/meters/:meterId/history',
    {
      config: { access },
      schema: {
        tags: ['dashboard'],
        operationId: 'meterHistory',
        summary: 'A year of days, or of months, with generation and self-consumption where the household has a PV meter',
        params: meterParams,
        querystring: historyQuery,
        response: { 200: jsonOrCsv('The history.', history), ...meterRefusals },
      },
    },
    async (request, reply) => {
      const m = request.visible.meter!;
      const q = request.query;
      const zone = await zoneOf(registry, m);
      const { day } = await dayOf(m, zone, q.date);
      // The year up to and including the day (days) or its month (months).
      const [from, to] = q.step === '1d' ? [addDays(zone, day, -364), addDays(zone, day, 1)] : [addMonths(zone, day, -11), addMonths(zone, day, 1)];
      const [imp, exp] = await seriesOf(m, zone, from, to, q.step, [IMPORT, EXPORT]);
      const f = flow(imp, exp);
      // Generation: a generation meter's own export; for a grid meter, the export of the household's generation meters
      // over the same intervals, and self-consumption from both.
      const household = await registry.meters(m.householdId);
      const roles = await settings.meterRoles(household.map((x) => x.id));
      const role = roles.get(m.id) ?? 'grid';
      const pvMeters = role === 'generation' ? [] : household.filter((x) => roles.get(x.id) === 'generation');
      const generationMeters = role === 'generation' ? [m.id] : pvMeters.map((x) => x.id);
      let pv: { generation: (number | null)[]; selfConsumption?: (number | null)[] } | null = null;
      if (role === 'generation') pv = { generation: f.export };
      else if (pvMeters.length) {
        const series = [];
        for (const x of pvMeters) series.push(kWhSeries((await seriesOf(x, zone, from, to, q.step, [EXPORT]))[0]));
        const generation = sumSeries(series, f.t.length);
        pv = { generation, selfConsumption: selfConsumption(f, generation) };
      }
      if (wantsCsv(request, q.format)) {
        const head = ['from', `${IMPORT} (kWh)`, `${EXPORT} (kWh)`, ...(pv ? ['generation (kWh)'] : []), ...(pv?.selfConsumption ? ['self-consumption (kWh)'] : [])];
        const rows: unknown[][] = [head, ...f.t.map((t, i) => [isoUtc(t * 1000), f.import[i] ?? '', f.export[i] ?? '', ...(pv ? [pv.generation[i] ?? ''] : []), ...(pv?.selfConsumption ? [pv.selfConsumption[i] ?? ''] : [])])];
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${m.id}-history-${q.step}.csv"`).send(csv(rows));
      }
      return {
        meterId: m.id,
        role,
        zone,
        date: dateOf(zone, day),
        step: q.step,
        unit: 'kWh' as const,
        from: isoUtc(from),
        to: isoUtc(to),
        ...f,
        totals: totals(f),
        ...(pv ? { generationMeters, ...pv, generationTotals: generationTotals(f, pv.generation, pv.selfConsumption ?? null) } : {}),
      };
    },
  );

  app.get(
    '/api/v1/meters/:meterId/alerts',
    {
      config: { access },
      schema: {
        tags: ['dashboard'],
        operationId: 'meterAlerts',
        summary: "The alerts the household's thresholds raise over the seven days up to the day",
        params: meterParams,
        querystring: dayQuery,
        response: { 200: z.object({ meterId: z.string(), zone, from: utcTime, to: utcTime, settings: alertSettingsSchema, alerts: z.array(alert) }).strict(), ...meterRefusals },
      },
    },
    async (request) => {
      const m = request.visible.meter!;
      const zone = await zoneOf(registry, m);
      const { day, latest } = await dayOf(m, zone, request.query.date);
      // The seven days up to and including the day.
      const from = addDays(zone, day, -6);
      const to = addDays(zone, day, 1);
      const { settings: thresholds } = await alertSettingsOf(settings, m.householdId);
      const f = await quarterFlow(m, zone, from, to);
      const alerts = evaluateAlerts(f, zone, thresholds, latest, clock());
      return { meterId: m.id, zone, from: isoUtc(from), to: isoUtc(to), settings: thresholds, alerts };
    },
  );
};
