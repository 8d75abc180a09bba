import { identity, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { Notifications, NotificationRecord } from '../../app/notifications.ts';
import type { LocalService } from './api-routes.ts';
import { localService, type LocalHandlers } from './local-service.ts';

const noticeOf = (record: NotificationRecord): identity.Notification => ({ ...record });

/**
 * passage.identity.v1.NotificationService, in the gateway's process (ADR 40), as PeopleService
 * is: the signed-in person's own notices and e-mail choices, nobody else's.
 */
export function notificationService(notifications: Notifications, contract: ApiContract): LocalService {
  const handlers: LocalHandlers<typeof identity.NotificationServiceService, string> = {
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
  return localService('NotificationService', identity.NotificationServiceService, contract, handlers, (session) => {
    if (!session) throw new PassageError('unauthenticated', 'sign in first');
    return session.record.user.userId;
  });
}
