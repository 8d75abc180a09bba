import { webhooks as pb, type ApiContract } from '@passage/contracts';
import type { DeliveryRecord, SubscriptionRecord, Webhooks } from '../../app/webhooks.ts';
import { isWebhookEventType } from '../../domain/webhooks.ts';
import type { LocalService } from './api-routes.ts';
import { localService, signedIn } from './local-service.ts';

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

/**
 * passage.webhooks.v1.WebhookService, in the gateway's process (ADR 46), for the signed-in
 * caller: an agency's supervisor or integration client, or the administrator.
 */
export function webhookService(webhooks: Webhooks, contract: ApiContract): LocalService {
  return localService(
    'WebhookService',
    pb.WebhookServiceService,
    {
      createWebhookSubscription: async (request, session) => {
        const created = await webhooks.create(signedIn(session), {
          agencyId: request.agencyId,
          url: request.url,
          direction: request.direction,
          // The field rules have refused any other name.
          eventTypes: request.eventTypes.filter(isWebhookEventType),
          description: request.description,
        });
        return { subscription: subscriptionOf(created.subscription), secret: created.secret };
      },
      listWebhookSubscriptions: async (request, session) => ({
        subscriptions: (await webhooks.list(signedIn(session), request.agencyId, request.includeDeleted)).map(
          subscriptionOf,
        ),
      }),
      getWebhookSubscription: async (request, session) => ({
        subscription: subscriptionOf(await webhooks.get(signedIn(session), request.subscriptionId)),
      }),
      deleteWebhookSubscription: async (request, session) => {
        const deleted = await webhooks.delete(signedIn(session), request.subscriptionId);
        return { subscription: subscriptionOf(deleted.subscription), cancelled: deleted.cancelled };
      },
      rotateWebhookSecret: async (request, session) => {
        const rotated = await webhooks.rotate(signedIn(session), request.subscriptionId);
        return {
          subscription: subscriptionOf(rotated.subscription),
          secret: rotated.secret,
          previousSecretExpiresAt: rotated.previousUntil,
        };
      },
      listWebhookDeliveries: async (request, session) => ({
        deliveries: (
          await webhooks.deliveries(
            signedIn(session),
            request.subscriptionId,
            { status: request.status, referralId: request.referralId },
            request.pageSize,
          )
        ).map(deliveryOf),
      }),
      redeliverWebhook: async (request, session) => ({
        delivery: deliveryOf(await webhooks.redeliver(signedIn(session), request.subscriptionId, request.deliveryId)),
      }),
    },
    contract,
  );
}
