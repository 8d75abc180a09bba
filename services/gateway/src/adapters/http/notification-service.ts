import { identity, ruleViolations, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { Notifications, NotificationRecord } from '../../app/notifications.ts';
import type { LocalService, LocalSession } from './api-routes.ts';

type Definition = typeof identity.NotificationServiceService;
type Handlers = {
  [K in keyof Definition]: (
    request: ReturnType<Definition[K]['requestDeserialize']>,
    userId: string,
  ) => Promise<Parameters<Definition[K]['responseSerialize']>[0]>;
};

const noticeOf = (record: NotificationRecord): identity.Notification => ({ ...record });

/**
 * passage.identity.v1.NotificationService, in the gateway's process (ADR 40), as PeopleService
 * is: the signed-in person's own notices and e-mail choices, nobody else's.
 */
export function notificationService(notifications: Notifications, contract: ApiContract): LocalService {
  const handlers: Handlers = {
    listNotifications: async (request, userId) => ({
      notifications: (await notifications.list(userId, request.unreadOnly, request.pageSize)).map(noticeOf),
    }),
    countUnreadNotifications: async (_request, userId) => ({ unread: await notifications.countUnread(userId) }),
    markNotificationsRead: async (request, userId) => ({
      marked: await notifications.markRead(userId, request.notificationIds, request.all),
    }),
    getNotificationPreferences: async (_request, userId) => ({
      preferences: { emailKinds: await notifications.emailKinds(userId) },
    }),
    setNotificationPreferences: async (request, userId) => ({
      preferences: { emailKinds: await notifications.setEmailKinds(userId, request.preferences?.emailKinds ?? []) },
    }),
  };
  const byName = new Map(
    Object.entries(identity.NotificationServiceService).map(([key, method]) => [
      method.path.split('/').at(-1)!,
      { key: key as keyof Definition, method, input: contract.methodOf(method.path)?.input },
    ]),
  );
  return {
    local: true,
    async unary(name, bytes, session: LocalSession | undefined) {
      const found = byName.get(name);
      if (!found) throw new PassageError('not_found', `NotificationService has no method ${name}`);
      if (!session) throw new PassageError('unauthenticated', 'sign in first');
      const request = found.method.requestDeserialize(Buffer.from(bytes));
      const refused = found.input ? ruleViolations(contract, found.input, request) : [];
      if (refused.length > 0) throw PassageError.invalid(refused);
      const handler = handlers[found.key] as (r: unknown, userId: string) => Promise<unknown>;
      const answer = await handler(request, session.record.user.userId);
      return (found.method.responseSerialize as (value: unknown) => Buffer)(answer);
    },
  };
}
