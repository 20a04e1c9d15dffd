import { Checkbox, SimpleGrid } from '@mantine/core';
import { APPS } from '../../shared/apps.tsx';
import type { AppName } from '../../shared/types.ts';

/** Checkboxes for admin-portal apps; `allowed` limits which can be chosen (only apps the viewer holds; Finance is never given by invitation). */
export function AppPicker({ label, value, onChange, allowed, error, description }: {
  label: string;
  value: AppName[];
  onChange: (apps: AppName[]) => void;
  allowed: (app: AppName) => boolean;
  error?: string;
  description?: string;
}) {
  return (
    <Checkbox.Group label={label} description={description} value={value} onChange={(v) => onChange(v)} error={error}>
      <SimpleGrid cols={2} spacing="xs" mt="xs">
        {APPS.filter((a) => allowed(a.name)).map((a) => (
          <Checkbox key={a.name} value={a.name} label={a.label} />
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}
