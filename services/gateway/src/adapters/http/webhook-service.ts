import { webhooks as pb, type ApiContract } from '@passage/contracts';
import type { DeliveryRecord, SubscriptionRecord, Webhooks } from '../../app/webhooks.ts';
import { isWebhookEventType } from '../../domain/webhooks.ts';
import { PassageError } from '@passage/platform';
import { clientCaller } from '../../domain/integration-clients.ts';
import type { WebhookCaller } from '../../domain/webhooks.ts';
import type { LocalClient, LocalService, LocalSession } from './api-routes.ts';
import { localService } from './local-service.ts';

const subscriptionOf = (s: SubscriptionRecord): pb.WebhookSubscription => ({
  subscriptionId: s.subscriptionId,
  agencyId: s.agencyId,
  url: s.url,
  direction: s.direction,
  eventTypes: [...s.eventTypes],
  description: s.description,
  createdAt: s.createdAt,
  createdBy: s.createdBy,
  deletedAt: s.deletedAt,
  secretRotatedAt: s.secretRotatedAt,
});

const deliveryOf = (d: DeliveryRecord): pb.WebhookDelivery => ({ ...d });

/** Who calls: the person signed in, or the agency's integration client (role system, ADR 45). */
function callerOf(session: LocalSession | undefined, client: LocalClient | undefined): WebhookCaller {
  if (client) return clientCaller(client);
  if (!session) throw new PassageError('unauthenticated', 'sign in first');
  return session.record.user;
}

/**
 * passage.webhooks.v1.WebhookService, in the gateway's process (ADR 46), for the signed-in
 * caller: an agency's supervisor or integration client, or the administrator.
 */
export function webhookService(webhooks: Webhooks, contract: ApiContract): LocalService {
  return localService(
    'WebhookService',
    pb.WebhookServiceService,
    contract,
    {
      createWebhookSubscription: async (request, caller) => {
        const created = await webhooks.create(caller, {
          agencyId: request.agencyId,
          url: request.url,
          direction: request.direction,
          // The field rules have refused any other name.
          eventTypes: request.eventTypes.filter(isWebhookEventType),
          description: request.description,
        });
        return { subscription: subscriptionOf(created.subscription), secret: created.secret };
      },
      listWebhookSubscriptions: async (request, caller) => ({
        subscriptions: (await webhooks.list(caller, request.agencyId, request.includeDeleted)).map(subscriptionOf),
      }),
      getWebhookSubscription: async (request, caller) => ({
        subscription: subscriptionOf(await webhooks.get(caller, request.subscriptionId)),
      }),
      deleteWebhookSubscription: async (request, caller) => {
        const deleted = await webhooks.delete(caller, request.subscriptionId);
        return { subscription: subscriptionOf(deleted.subscription), cancelled: deleted.cancelled };
      },
      rotateWebhookSecret: async (request, caller) => {
        const rotated = await webhooks.rotate(caller, request.subscriptionId);
        return {
          subscription: subscriptionOf(rotated.subscription),
          secret: rotated.secret,
          previousSecretExpiresAt: rotated.previousUntil,
        };
      },
      listWebhookDeliveries: async (request, caller) => ({
        deliveries: (
          await webhooks.deliveries(
            caller,
            request.subscriptionId,
            { status: request.status, referralId: request.referralId },
            request.pageSize,
          )
        ).map(deliveryOf),
      }),
      redeliverWebhook: async (request, caller) => ({
        delivery: deliveryOf(await webhooks.redeliver(caller, request.subscriptionId, request.deliveryId)),
      }),
    },
    callerOf,
  );
}
