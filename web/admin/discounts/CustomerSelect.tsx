import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Select, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { api } from '../../shared/api.ts';
import { customerOptions } from '../../shared/customer-options.ts';

interface Found {
  id: string;
  name: string;
  currency: string;
}

/** A searchable customer picker (GET /api/v1/discounts/customers: the Discount grant is enough). */
export function CustomerSelect(props: Omit<SelectProps, 'data' | 'value' | 'onChange'> & { value: string | null; onChange: (id: string | null, customer: Found | null) => void }) {
  const { value, onChange, ...rest } = props;
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const [picked, setPicked] = useState<Found | null>(null);
  const found = useQuery({
    queryKey: ['discounts', 'customers', q],
    queryFn: ({ signal }) => api.get<{ data: Found[] }>('/api/v1/discounts/customers', { q: q || undefined }, signal),
  });
  const options = [...(found.data?.data ?? [])];
  if (picked && !options.some((o) => o.id === picked.id)) options.unshift(picked);
  if (value && !options.some((o) => o.id === value)) options.unshift({ id: value, name: value, currency: '' });
  return (
    <Select
      {...rest}
      searchable
      value={value}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={found.isPending ? 'Searching…' : 'No customer found'}
      data={customerOptions(options, (o) => (o.currency ? `${o.name} (${o.currency})` : o.name))}
      filter={({ options: all }) => all}
      onChange={(id) => {
        const c = options.find((o) => o.id === id) ?? null;
        setPicked(c);
        onChange(id, c);
      }}
    />
  );
}
