import { UsageError } from '../connection.ts';
import { formatRows, type Format, type Row } from '../output.ts';
import { list, need, withGateway } from './people.ts';

const webhooks = 'passage.webhooks.v1.WebhookService';

export interface WebhookFlags {
  readonly as?: string | undefined;
  readonly format: Format;
  readonly agency?: string | undefined;
  readonly events?: string | undefined;
  readonly direction?: string | undefined;
  readonly description?: string | undefined;
  readonly status?: string | undefined;
  readonly referral?: string | undefined;
}

interface Subscription {
  subscriptionId: string;
  agencyId: string;
  url: string;
  direction: string;
  eventTypes: string[];
  description: string;
  createdAt: string;
  deletedAt?: string;
}

interface Delivery {
  deliveryId: string;
  eventType: string;
  referralId: string;
  status: string;
  attempts: number;
  lastStatusCode: number;
  lastError: string;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
}

const subscriptionColumns = ['subscriptionId', 'agencyId', 'url', 'direction', 'events', 'state'];
const subscriptionRow = (s: Subscription): Row => ({
  subscriptionId: s.subscriptionId,
  agencyId: s.agencyId,
  url: s.url,
  direction: s.direction,
  events: s.eventTypes.join(' '),
  state: s.deletedAt ? 'deleted' : 'active',
});

const deliveryColumns = ['deliveryId', 'event', 'referralId', 'status', 'attempts', 'lastStatus', 'lastError', 'next'];
const deliveryRow = (d: Delivery): Row => ({
  deliveryId: d.deliveryId,
  event: d.eventType,
  referralId: d.referralId,
  status: d.status,
  attempts: d.attempts,
  lastStatus: d.lastStatusCode || '',
  lastError: d.lastError,
  next: d.nextAttemptAt ?? '',
});

/**
 * pnpm passage webhooks <command> … (ADR 46): an agency's endpoints through the gateway's HTTP
 * API, as its supervisor (or the administrator, for any agency).
 */
export function webhooksCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  flags: WebhookFlags,
  print: (line: string) => void,
): Promise<number> {
  const id = (): string => need(args[0], `the subscription id (passage webhooks ${command} ID)`);
  const show = (found: Subscription) => print(formatRows([subscriptionRow(found)], subscriptionColumns, flags.format));
  return withGateway(env, flags, async (gateway) => {
    switch (command) {
      case 'list': {
        const { subscriptions } = await gateway.call<{ subscriptions: Subscription[] }>(
          webhooks,
          'ListWebhookSubscriptions',
          { agencyId: flags.agency ?? '' },
        );
        print(formatRows(subscriptions.map(subscriptionRow), subscriptionColumns, flags.format));
        return 0;
      }
      case 'create': {
        const created = await gateway.call<{ subscription: Subscription; secret: string }>(
          webhooks,
          'CreateWebhookSubscription',
          {
            url: need(args[0], 'the endpoint (passage webhooks create URL)'),
            agencyId: flags.agency ?? '',
            direction: flags.direction ?? '',
            eventTypes: list(flags.events),
            description: flags.description ?? '',
          },
        );
        show(created.subscription);
        print(`signing secret (shown this once): ${created.secret}`);
        return 0;
      }
      case 'delete': {
        const deleted = await gateway.call<{ subscription: Subscription; cancelled: number }>(
          webhooks,
          'DeleteWebhookSubscription',
          { subscriptionId: id() },
        );
        show(deleted.subscription);
        print(`deliveries cancelled: ${deleted.cancelled}`);
        return 0;
      }
      case 'rotate-secret': {
        const rotated = await gateway.call<{ secret: string; previousSecretExpiresAt?: string }>(
          webhooks,
          'RotateWebhookSecret',
          { subscriptionId: id() },
        );
        print(
          `signing secret (shown this once): ${rotated.secret}; the old one also signs until ${rotated.previousSecretExpiresAt ?? ''}`,
        );
        return 0;
      }
      case 'deliveries': {
        const { deliveries } = await gateway.call<{ deliveries: Delivery[] }>(webhooks, 'ListWebhookDeliveries', {
          subscriptionId: id(),
          status: flags.status ?? '',
          referralId: flags.referral ?? '',
        });
        print(formatRows(deliveries.map(deliveryRow), deliveryColumns, flags.format));
        return 0;
      }
      case 'redeliver': {
        const { delivery } = await gateway.call<{ delivery: Delivery }>(webhooks, 'RedeliverWebhook', {
          subscriptionId: id(),
          deliveryId: need(args[1], 'the delivery id (passage webhooks redeliver ID DELIVERY_ID)'),
        });
        print(formatRows([deliveryRow(delivery)], deliveryColumns, flags.format));
        return 0;
      }
      default:
        throw new UsageError(
          `unknown command "webhooks ${command}": list, create, delete, rotate-secret, deliveries, redeliver`,
        );
    }
  });
}
