import { identity, type ApiContract } from '@passage/contracts';
import type { Notifications, NotificationRecord } from '../../app/notifications.ts';
import type { LocalService, LocalSession } from './api-routes.ts';
import { localService, signedIn } from './local-service.ts';

const noticeOf = (record: NotificationRecord): identity.Notification => ({ ...record });

/**
 * passage.identity.v1.NotificationService, in the gateway's process (ADR 40), as PeopleService
 * is: the signed-in person's own notices and e-mail choices, nobody else's.
 */
export function notificationService(notifications: Notifications, contract: ApiContract): LocalService {
  const userOf = (session: LocalSession | undefined): string => signedIn(session).userId;
  return localService(
    'NotificationService',
    identity.NotificationServiceService,
    {
      listNotifications: async (request, session) => ({
        notifications: (await notifications.list(userOf(session), request.unreadOnly, request.pageSize)).map(noticeOf),
      }),
      countUnreadNotifications: async (_request, session) => ({
        unread: await notifications.countUnread(userOf(session)),
      }),
      markNotificationsRead: async (request, session) => ({
        marked: await notifications.markRead(userOf(session), request.notificationIds, request.all),
      }),
      getNotificationPreferences: async (_request, session) => ({
        preferences: { emailKinds: await notifications.emailKinds(userOf(session)) },
      }),
      setNotificationPreferences: async (request, session) => ({
        preferences: {
          emailKinds: await notifications.setEmailKinds(userOf(session), request.preferences?.emailKinds ?? []),
        },
      }),
    },
    contract,
  );
}
