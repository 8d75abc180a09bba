import nodemailer, { type Transporter } from 'nodemailer';
import type { Mailer } from '../../app/notifications.ts';

/**
 * E-mail through SMTP (nodemailer): SMTP_URL, smtp:// (STARTTLS when the server offers it) or
 * smtps://, credentials in the URL. `from`: NOTIFY_FROM, a neutral sender.
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;
  readonly enabled = true;

  constructor(url: string, from: string) {
    this.#transport = nodemailer.createTransport(url, { disableFileAccess: true, disableUrlAccess: true });
    this.#from = from;
  }

  async send(mail: { to: string; subject: string; text: string; messageId: string }): Promise<void> {
    await this.#transport.sendMail({
      from: this.#from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      messageId: mail.messageId,
    });
  }

  close(): void {
    this.#transport.close();
  }
}

/** No SMTP_URL: e-mail is off; every queued e-mail is recorded as not sent, the console notices still work. */
export class NoMailer implements Mailer {
  readonly enabled = false;

  send(): Promise<void> {
    return Promise.reject(Object.assign(new Error('e-mail is off'), { code: 'EMAIL_OFF' }));
  }

  close(): void {}
}
