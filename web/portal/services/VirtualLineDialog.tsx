import { useMemo, useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Alert, Button, Checkbox, Divider, Group, Modal, MultiSelect, SegmentedControl, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { api, isApiError } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import type { PortalMember } from '../../shared/types.ts';
import { subscriptionLabel } from './queries.ts';
import { WEEKDAYS, type BusinessHours, type Destination, type OutsideHours, type PortalSubscription, type VirtualLine, type Weekday } from './types.ts';

type DestinationType = Destination['type'];
type OutsideType = 'voicemail' | 'user' | 'external';
interface DayRow {
  enabled: boolean;
  open: string;
  close: string;
}

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Singapore';
  } catch {
    return 'Asia/Singapore';
  }
}

let zoneList: string[] | null = null;
function timeZones(): string[] {
  zoneList ??= (() => {
    try {
      return [...Intl.supportedValuesOf('timeZone'), 'UTC'];
    } catch {
      return ['Asia/Singapore', 'Asia/Kuala_Lumpur', 'Asia/Hong_Kong', 'Asia/Ho_Chi_Minh', 'Australia/Sydney', 'UTC'];
    }
  })();
  return zoneList;
}

function initialDays(hours: BusinessHours | null): Record<Weekday, DayRow> {
  const rows = {} as Record<Weekday, DayRow>;
  for (const { day } of WEEKDAYS) {
    const set = hours?.days.find((d) => d.day === day);
    rows[day] = set
      ? { enabled: true, open: set.open, close: set.close }
      : { enabled: !hours && day !== 'sat' && day !== 'sun', open: '09:00', close: '18:00' };
  }
  return rows;
}

/** The create and edit dialog of a virtual line: number, name, where calls go, business hours, subscription. */
export function VirtualLineDialog(props: {
  opened: boolean;
  line: VirtualLine | null;
  members: PortalMember[];
  subscriptions: PortalSubscription[] | null;
  onClose: () => void;
  onSaved: (line: VirtualLine, created: boolean) => Promise<void>;
  onStale: () => Promise<void>;
}) {
  // Remounted per line (key) by the caller, so the state starts from the line being edited.
  const { line } = props;
  const d = line?.destination;
  const oh = line?.businessHours?.outsideHours;
  const [number, setNumber] = useState(line?.number ?? '');
  const [name, setName] = useState(line?.name ?? '');
  const [destType, setDestType] = useState<DestinationType>(d?.type ?? 'user');
  const [userId, setUserId] = useState<string | null>(d?.type === 'user' ? d.userId : null);
  const [groupName, setGroupName] = useState(d?.type === 'group' ? d.name : '');
  const [groupMembers, setGroupMembers] = useState<string[]>(d?.type === 'group' ? d.memberUserIds : []);
  const [external, setExternal] = useState(d?.type === 'external' ? d.number : '');
  const [alwaysOpen, setAlwaysOpen] = useState(line ? line.businessHours === null : true);
  const [timezone, setTimezone] = useState<string | null>(line?.businessHours?.timezone ?? browserTimeZone());
  const [days, setDays] = useState(() => initialDays(line?.businessHours ?? null));
  const [outsideType, setOutsideType] = useState<OutsideType>(oh?.type === 'user' || oh?.type === 'external' ? oh.type : 'voicemail');
  const [outsideUserId, setOutsideUserId] = useState<string | null>(oh?.type === 'user' ? oh.userId : null);
  const [outsideNumber, setOutsideNumber] = useState(oh?.type === 'external' ? oh.number : '');
  const [subscriptionId, setSubscriptionId] = useState<string | null>(line?.subscriptionId ?? null);

  const memberOptions = useMemo(() => {
    const options = props.members.map((m) => ({ value: m.id, label: `${m.name} (${m.email})` }));
    // A destination whose person has since left still shows, so the form does not silently drop it.
    for (const id of [userId, outsideUserId, ...groupMembers]) {
      if (id && !options.some((o) => o.value === id)) options.push({ value: id, label: `${id} (no longer a member)` });
    }
    return options;
  }, [props.members, userId, outsideUserId, groupMembers]);

  const openDays = WEEKDAYS.filter(({ day }) => days[day].enabled);
  const dayIndex = (day: Weekday) => openDays.findIndex((o) => o.day === day);

  const body = () => {
    const destination: Destination =
      destType === 'user' ? { type: 'user', userId: userId ?? '' }
        : destType === 'group' ? { type: 'group', name: groupName, memberUserIds: groupMembers }
          : { type: 'external', number: external.trim() };
    const outsideHours: OutsideHours =
      outsideType === 'voicemail' ? { type: 'voicemail' }
        : outsideType === 'user' ? { type: 'user', userId: outsideUserId ?? '' }
          : { type: 'external', number: outsideNumber.trim() };
    const businessHours: BusinessHours | null = alwaysOpen
      ? null
      : { timezone: timezone ?? '', days: openDays.map(({ day }) => ({ day, open: days[day].open, close: days[day].close })), outsideHours };
    return {
      number: number.trim(), name, destination, businessHours,
      ...(props.subscriptions !== null || subscriptionId !== null ? { subscriptionId } : {}),
    };
  };

  const save = useMutation({
    mutationFn: async () => {
      if (line) return { line: await api.patch<VirtualLine>(`/api/v1/portal/virtual-lines/${line.id}`, { version: line.version, ...body() }), created: false };
      return { line: await api.post<VirtualLine>('/api/v1/portal/virtual-lines', body()), created: true };
    },
    onSuccess: async (r) => props.onSaved(r.line, r.created),
    onError: async (e) => {
      if (isApiError(e) && e.code === 'stale_version') await props.onStale();
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const err = (path: string) => fieldError(save.error, path);
  const shownFields = [
    'number', 'name', 'destination.type', 'destination.userId', 'destination.name', 'destination.memberUserIds', 'destination.number',
    'businessHours.timezone', 'businessHours.outsideHours.userId', 'businessHours.outsideHours.number', 'businessHours.days', 'subscriptionId',
    ...openDays.flatMap((_d, i) => [`businessHours.days.${i}.open`, `businessHours.days.${i}.close`, `businessHours.days.${i}.day`]),
    ...groupMembers.map((_m, i) => `destination.memberUserIds.${i}`),
  ];
  const groupError = err('destination.memberUserIds') ?? groupMembers.map((_m, i) => err(`destination.memberUserIds.${i}`)).find(Boolean);
  const stale = isApiError(save.error) && save.error.code === 'stale_version';
  const title = line ? `Edit ${line.name}` : 'Add virtual line';

  return (
    <Modal opened={props.opened} onClose={props.onClose} title={title} centered size="xl">
      <form onSubmit={onSubmit} noValidate aria-label={title}>
        <Stack>
          {stale ? (
            <Alert color="orange" title="Someone else changed this line" role="alert">
              Your changes were not saved. Close this dialog and open the line again to see the latest version.
            </Alert>
          ) : (
            <FormError error={save.error} fields={shownFields} />
          )}
          <Group grow align="flex-start">
            <TextInput label="Number" description="International format, e.g. +6561234567" value={number} onChange={(e) => setNumber(e.currentTarget.value)} error={err('number')} required data-autofocus />
            <TextInput label="Name" description="How your team knows this line" value={name} onChange={(e) => setName(e.currentTarget.value)} error={err('name')} required />
          </Group>

          <Divider label="Where calls go" labelPosition="left" />
          <SegmentedControl
            aria-label="Calls go to"
            value={destType}
            onChange={(v) => setDestType(v)}
            data={[
              { value: 'user', label: 'A person' },
              { value: 'group', label: 'A group' },
              { value: 'external', label: 'External number' },
            ]}
          />
          {destType === 'user' ? (
            <Select label="Person" placeholder="Choose a member" data={memberOptions} value={userId} onChange={setUserId} searchable error={err('destination.userId')} required />
          ) : null}
          {destType === 'group' ? (
            <Group grow align="flex-start">
              <TextInput label="Group name" value={groupName} onChange={(e) => setGroupName(e.currentTarget.value)} error={err('destination.name')} required />
              <MultiSelect label="Group members" placeholder="Choose members" data={memberOptions} value={groupMembers} onChange={setGroupMembers} searchable error={groupError} required />
            </Group>
          ) : null}
          {destType === 'external' ? (
            <TextInput label="External number" description="International format" value={external} onChange={(e) => setExternal(e.currentTarget.value)} error={err('destination.number')} required />
          ) : null}

          <Divider label="Business hours" labelPosition="left" />
          <Switch label="Always open" checked={alwaysOpen} onChange={(e) => setAlwaysOpen(e.currentTarget.checked)} />
          {!alwaysOpen ? (
            <Stack gap="sm">
              <Select label="Timezone" data={timeZones()} value={timezone} onChange={setTimezone} searchable error={err('businessHours.timezone')} required maw={320} />
              <Table aria-label="Opening hours" verticalSpacing={4} withRowBorders={false}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Day</Table.Th>
                    <Table.Th>Opens</Table.Th>
                    <Table.Th>Closes</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {WEEKDAYS.map(({ day, label }) => {
                    const row = days[day];
                    const i = dayIndex(day);
                    const set = (patch: Partial<DayRow>) => setDays((all) => ({ ...all, [day]: { ...all[day], ...patch } }));
                    return (
                      <Table.Tr key={day}>
                        <Table.Td>
                          <Checkbox label={label} checked={row.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
                        </Table.Td>
                        <Table.Td>
                          <TextInput type="time" aria-label={`${label} opens`} value={row.open} disabled={!row.enabled} onChange={(e) => set({ open: e.currentTarget.value })} error={i >= 0 ? err(`businessHours.days.${i}.open`) : undefined} size="xs" w={130} />
                        </Table.Td>
                        <Table.Td>
                          <TextInput type="time" aria-label={`${label} closes`} value={row.close} disabled={!row.enabled} onChange={(e) => set({ close: e.currentTarget.value })} error={i >= 0 ? err(`businessHours.days.${i}.close`) : undefined} size="xs" w={130} />
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
              {err('businessHours.days') ? (
                <Text size="sm" c="red">
                  {err('businessHours.days')}
                </Text>
              ) : null}
              <Group align="flex-start" grow>
                <Select
                  label="Outside business hours"
                  data={[
                    { value: 'voicemail', label: 'Voicemail' },
                    { value: 'user', label: 'A person' },
                    { value: 'external', label: 'External number' },
                  ]}
                  value={outsideType}
                  onChange={(v) => v && setOutsideType(v)}
                  allowDeselect={false}
                />
                {outsideType === 'user' ? (
                  <Select label="Person outside hours" data={memberOptions} value={outsideUserId} onChange={setOutsideUserId} searchable error={err('businessHours.outsideHours.userId')} required />
                ) : null}
                {outsideType === 'external' ? (
                  <TextInput label="Number outside hours" value={outsideNumber} onChange={(e) => setOutsideNumber(e.currentTarget.value)} error={err('businessHours.outsideHours.number')} required />
                ) : null}
              </Group>
            </Stack>
          ) : null}

          {props.subscriptions !== null ? (
            <>
              <Divider label="Subscription" labelPosition="left" />
              <Select
                label="Comes with subscription"
                placeholder="None"
                clearable
                data={props.subscriptions.filter((s) => s.status !== 'terminated' || s.id === subscriptionId).map((s) => ({ value: s.id, label: subscriptionLabel(s) }))}
                value={subscriptionId}
                onChange={setSubscriptionId}
                error={err('subscriptionId')}
                maw={420}
              />
            </>
          ) : null}

          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {line ? 'Save changes' : 'Add line'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
