import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  /** Reply-To, when the message has one (sales notifications, contact-sales messages). */
  replyTo?: { address: string; name: string | null } | null;
}

/** Where notifications go: SMTP when SMTP_URL is set, otherwise the local mailbox (readable in the admin and operator UIs). */
export interface MailTransport {
  readonly name: 'smtp' | 'local_mailbox';
  send(mail: OutgoingEmail): Promise<void>;
}

/**
 * A delivery failure. `permanent`: retrying cannot help (the receiving server rejected the recipient with a 5xx reply),
 * so the notification fails at once instead of after every retry. Anything else (connection refused, timeouts, 4xx
 * replies, a misconfigured sender or credentials) is worth retrying once fixed.
 */
export class MailDeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MailDeliveryError';
    this.permanent = options.permanent;
  }
}

interface SmtpError {
  message?: string;
  code?: string;
  responseCode?: number;
}

function classify(err: unknown): MailDeliveryError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpError;
  const message = typeof e.message === 'string' ? e.message : String(err);
  // EENVELOPE: every recipient was refused; with a 5xx reply the address itself is refused for good.
  const permanent = e.code === 'EENVELOPE' && typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
  return new MailDeliveryError(message, { permanent, cause: err });
}

/** Bounded waits: a delivery holds its notification's row lock while talking to the server. */
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

export function createMailTransport(smtpUrl: string | undefined, from: string): MailTransport {
  if (!smtpUrl) {
    return { name: 'local_mailbox', send: async () => {} };
  }
  const transporter = nodemailer.createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS });
  return {
    name: 'smtp',
    send: async (mail) => {
      try {
        await transporter.sendMail({
          from, to: mail.to, subject: mail.subject, text: mail.text, messageId: `<${mail.messageId}@folio>`,
          ...(mail.replyTo ? { replyTo: mail.replyTo.name ? { name: mail.replyTo.name, address: mail.replyTo.address } : mail.replyTo.address } : {}),
        });
      } catch (err) {
        throw classify(err);
      }
    },
  };
}
