import { z } from 'zod';
import { deviceJson } from '../../alerts/model.ts';
import { parseSubscription } from '../../alerts/push.ts';
import type { AlertService } from '../../alerts/service.ts';
import type { Principal } from '../../auth/tokens.ts';
import { ALERT_KINDS, type AlertSettingsJson, ORDER_ALERT_EVENTS } from '../../shared/alerts.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';
import { everyone } from './orders.ts';

// A user's own alerts, their history, their notification settings and their push devices. Every
// route acts on the caller's own: another user's alert answers 404, as one that does not exist.

const threshold = z.number({ message: 'a number' }).finite('a finite number');
const expiry = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('session') }).strict(),
    z.object({ kind: z.literal('never') }).strict(),
    z.object({ kind: z.literal('date'), at: z.string().max(40) }).strict(),
  ],
  { message: "kind 'session', 'never' or 'date' (with at)" },
);
const orderEvents = z
  .array(z.enum(ORDER_ALERT_EVENTS, { message: `one of ${ORDER_ALERT_EVENTS.join(', ')}` }))
  .max(4);
const cooldownS = z.number().int('whole seconds');
const note = z.string().max(200, 'at most 200 characters').nullable();

const newAlert = z
  .object({
    clientId: z.string().min(1).max(64).optional(),
    kind: z.enum(ALERT_KINDS, { message: `one of ${ALERT_KINDS.join(', ')}` }),
    ticker: z.string().min(4).max(12).nullable().optional(),
    threshold: threshold.nullable().optional(),
    orderEvents: orderEvents.optional(),
    repeat: z.boolean().optional(),
    cooldownS: cooldownS.optional(),
    expiry: expiry.optional(),
    note: note.optional(),
  })
  .strict();

const alertPatch = z
  .object({
    threshold: threshold.optional(),
    orderEvents: orderEvents.optional(),
    repeat: z.boolean().optional(),
    cooldownS: cooldownS.optional(),
    expiry: expiry.optional(),
    note: note.optional(),
    status: z.enum(['active', 'paused'], { message: "'active' or 'paused'" }).optional(),
  })
  .strict();

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, Brasília time')
  .nullable();
const settings = z
  .object({ quietFrom: hhmm, quietTo: hhmm, perMinute: z.number().int().min(1).max(60) })
  .strict()
  .refine((s) => (s.quietFrom === null) === (s.quietTo === null), {
    message: 'quiet hours need both quietFrom and quietTo (or neither)',
  });

const device = z.object({ subscription: z.unknown(), label: z.string().min(1).max(80) }).strict();

const userOf = (req: Request) => (req.principal as Principal).userId;
const idOf = (req: Request, what: string) => {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new HttpError(404, 'not_found', `No ${what} ${req.params.id}`);
  return id;
};

export interface AlertRouteDeps {
  readonly alerts: AlertService;
  /** The VAPID public key the browser subscribes with; undefined without Web Push. */
  readonly vapidPublicKey: string | undefined;
  /** Tests only: loopback http:// push endpoints. */
  readonly allowLoopback: boolean;
}

export function alertRoutes({ alerts, vapidPublicKey, allowLoopback }: AlertRouteDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/alerts',
      access: everyone,
      async handle(req) {
        return ok({ alerts: await alerts.list(userOf(req)) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/alerts',
      access: everyone,
      async handle(req) {
        const made = await alerts.create(userOf(req), newAlert.parse(req.body));
        const { created, ...answer } = made;
        return ok(answer, created ? 201 : 200);
      },
    },
    {
      method: 'patch',
      path: '/api/v1/alerts/:id',
      access: everyone,
      async handle(req) {
        return ok(await alerts.update(userOf(req), idOf(req, 'alert'), alertPatch.parse(req.body)));
      },
    },
    {
      method: 'del',
      path: '/api/v1/alerts/:id',
      access: everyone,
      async handle(req) {
        await alerts.remove(userOf(req), idOf(req, 'alert'));
        return { status: 204 };
      },
    },
    {
      method: 'get',
      path: '/api/v1/alerts/history',
      access: everyone,
      async handle(req) {
        const limit = Math.min(200, Math.max(1, Number(req.query.get('limit') ?? 50) || 50));
        const before = req.query.get('before');
        const beforeId = before === null ? undefined : Number(before);
        if (beforeId !== undefined && (!Number.isSafeInteger(beforeId) || beforeId <= 0))
          throw new HttpError(422, 'invalid_query', 'before: a firing id');
        const firings = await alerts.history(userOf(req), limit, beforeId);
        return ok({ firings, next: firings.length === limit ? (firings.at(-1)?.id ?? null) : null });
      },
    },
    {
      method: 'get',
      path: '/api/v1/alerts/settings',
      access: everyone,
      async handle(req) {
        return ok(await alerts.settings(userOf(req)));
      },
    },
    {
      method: 'put',
      path: '/api/v1/alerts/settings',
      access: everyone,
      async handle(req) {
        const s: AlertSettingsJson = settings.parse(req.body);
        await alerts.setSettings(userOf(req), s);
        return ok(s);
      },
    },
    {
      method: 'get',
      path: '/api/v1/push/key',
      access: everyone,
      handle() {
        return ok({ publicKey: vapidPublicKey ?? null });
      },
    },
    {
      method: 'get',
      path: '/api/v1/push/devices',
      access: everyone,
      async handle(req) {
        return ok({ devices: (await alerts.devices(userOf(req))).map(deviceJson) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/push/devices',
      access: everyone,
      maxBodyBytes: 8 * 1024,
      async handle(req) {
        if (!vapidPublicKey)
          throw new HttpError(503, 'push_unavailable', 'Web Push is not set up on this server');
        const body = device.parse(req.body);
        const target = parseSubscription(body.subscription, allowLoopback);
        return ok({ device: deviceJson(await alerts.addDevice(userOf(req), target, body.label)) }, 201);
      },
    },
    {
      method: 'del',
      path: '/api/v1/push/devices/:id',
      access: everyone,
      async handle(req) {
        if (!(await alerts.removeDevice(userOf(req), idOf(req, 'device'))))
          throw new HttpError(404, 'not_found', `No device ${req.params.id} of yours`);
        return { status: 204 };
      },
    },
  ];
}
