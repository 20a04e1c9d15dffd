import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
}

/** Where notifications go: SMTP when SMTP_URL is set, otherwise the local mailbox (readable in the admin and operator UIs). */
export interface MailTransport {
  readonly name: 'smtp' | 'local_mailbox';
  send(mail: OutgoingEmail): Promise<void>;
}

export function createMailTransport(smtpUrl: string | undefined, from: string): MailTransport {
  if (!smtpUrl) {
    return { name: 'local_mailbox', send: async () => {} };
  }
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    name: 'smtp',
    send: async (mail) => {
      await transporter.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, messageId: `<${mail.messageId}@folio>` });
    },
  };
}
