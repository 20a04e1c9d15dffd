import { Fragment, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Anchor, Badge, Box, Group, Paper, Stack, Text, Timeline } from '@mantine/core';
import { formatDateTime, titleCase } from './format.ts';
import { StatusBadge } from './ui.tsx';
import type { StatusChange } from './types.ts';

const LOCAL_PATHS = ['/accept-invitation', '/reset-password', '/verify-email', '/login', '/admin', '/portal', '/operator'];

/** Turns URLs in a plain-text email into links; links to this app open here, whatever host the email named. */
export function Linkified({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/[^\s<>"')]+)/g);
  return (
    <>
      {parts.map((part, i) => {
        if (i % 2 === 0) return <Fragment key={i}>{part}</Fragment>;
        let local: string | null = null;
        try {
          const u = new URL(part);
          if (LOCAL_PATHS.some((p) => u.pathname === p || u.pathname.startsWith(`${p}/`))) local = u.pathname + u.search;
        } catch {
          local = null;
        }
        return local ? (
          <Anchor key={i} component={Link} to={local} style={{ wordBreak: 'break-all' }}>
            {part}
          </Anchor>
        ) : (
          <Anchor key={i} href={part} target="_blank" rel="noreferrer" style={{ wordBreak: 'break-all' }}>
            {part}
          </Anchor>
        );
      })}
    </>
  );
}

export function StatusHistory({ history }: { history: StatusChange[] }) {
  if (history.length === 0) return <Text size="sm" c="dimmed">No status changes recorded.</Text>;
  return (
    <Timeline bulletSize={12} lineWidth={2} active={history.length - 1} aria-label="Status history">
      {history.map((h, i) => (
        <Timeline.Item key={`${h.at}-${i}`} title={<Text size="sm" fw={500}>{titleCase(h.status)}</Text>}>
          <Text size="xs" c="dimmed">
            {formatDateTime(h.at)}
          </Text>
          {h.detail ? <Text size="xs">{h.detail}</Text> : null}
        </Timeline.Item>
      ))}
    </Timeline>
  );
}

/** One email as a card: subject, who it went to, when, its status, its body. */
export function MessageCard(props: {
  subject: string;
  toEmail: string;
  /** Reply-To, when the message has one (sales notifications, contact-sales messages). */
  replyTo?: string | null;
  kind: string;
  status: string;
  createdAt: string;
  bodyText?: string;
  extra?: ReactNode;
  aside?: ReactNode;
}) {
  return (
    <Paper withBorder radius="md" p="md" component="article" aria-label={props.subject}>
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Box>
          <Text fw={600}>{props.subject}</Text>
          <Text size="sm" c="dimmed">
            To {props.toEmail}
            {props.replyTo ? ` · Reply-To ${props.replyTo}` : ''} · {formatDateTime(props.createdAt)}
          </Text>
        </Box>
        <Group gap={6} wrap="nowrap">
          <Badge variant="outline" color="gray" radius="sm">
            {titleCase(props.kind)}
          </Badge>
          <StatusBadge status={props.status} />
        </Group>
      </Group>
      <Stack gap="sm" mt="sm">
        {props.bodyText ? (
          <Text component="pre" size="sm" style={{ whiteSpace: 'pre-wrap', fontFamily: 'inherit', margin: 0 }} p="sm" bg="var(--mantine-color-gray-0)" bdrs="sm">
            <Linkified text={props.bodyText} />
          </Text>
        ) : null}
        {props.extra}
      </Stack>
      {props.aside}
    </Paper>
  );
}
