import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';
import * as m0003 from './0003_audit_notifications.ts';
import * as m0010 from './0010_ledger.ts';
import * as m0011 from './0011_gateway.ts';
import * as m0012 from './0012_idempotency.ts';
import * as m0013 from './0013_usage.ts';
import * as m0014 from './0014_topup.ts';
import * as m0015 from './0015_finance_usage.ts';
import * as m0016 from './0016_ledger_feed.ts';
import * as m0020 from './0020_catalog.ts';
import * as m0021 from './0021_subscriptions.ts';
import * as m0022 from './0022_services.ts';
import * as m0023 from './0023_catalog_import.ts';
import * as m0024 from './0024_customer_profile.ts';
import * as m0025 from './0025_renewals.ts';
import * as m0026 from './0026_set_based_references.ts';
import * as m0027 from './0027_invoices.ts';
import * as m0029 from './0029_invoice_terms.ts';
import * as m0031 from './0031_payments.ts';
import * as m0032 from './0032_credit_notes.ts';
import * as m0033 from './0033_bank_statements.ts';
import * as m0034 from './0034_audit_app.ts';
import * as m0035 from './0035_discounts.ts';
import * as m0036 from './0036_topup_policy_contact_sales.ts';
import * as m0037 from './0037_payment_receipts.ts';
import * as m0038 from './0038_audit_search_keys.ts';
import * as m0039 from './0039_feed_covering_index.ts';
import * as m0040 from './0040_postings_account_partner_only.ts';
import * as m0041 from './0041_partner_rows_at_commit.ts';
import * as m0042 from './0042_audit_keys_before_commit.ts';
import * as m0043 from './0043_pending_balances_by_key.ts';
import * as m0044 from './0044_fewer_index_writes_per_call.ts';
import * as m0045 from './0045_call_entry_checked_per_statement.ts';
import * as m0046 from './0046_tenant_wall_settings_once.ts';
import * as m0047 from './0047_pending_balances_by_account_key.ts';
import * as m0048 from './0048_room_for_balance_updates.ts';
import * as m0049 from './0049_audit_keys_pending_list.ts';
import * as m0050 from './0050_call_totals_on_accounts.ts';
import * as m0051 from './0051_balances_in_one_pass.ts';
import * as m0052 from './0052_postings_name_their_account_customer.ts';
import * as m0053 from './0053_ledger_checks.ts';
import * as m0054 from './0054_audit_chain_full_pass.ts';
import * as m0055 from './0055_call_tax.ts';
import * as m0056 from './0056_pay_attempt_resumed_at.ts';
import * as m0057 from './0057_rate_tax_category.ts';
import * as m0058 from './0058_audit_queue_by_key.ts';
import * as m0059 from './0059_audit_queue_keys_by_trigger.ts';
import * as m0060 from './0060_pending_balances_one_update.ts';
import * as m0061 from './0061_audit_search_text_by_trigger.ts';
import * as m0062 from './0062_pending_balances_commit_by_key.ts';
import * as m0063 from './0063_account_codes_table.ts';
import * as m0064 from './0064_low_balance_alerts.ts';
import * as m0065 from './0065_subscription_refund_invoices.ts';
import * as m0066 from './0066_invoice_payment_receipts.ts';
import * as m0067 from './0067_portal_invoice_order.ts';
import * as m0068 from './0068_subscription_version.ts';
import * as m0069 from './0069_customer_search_by_id_part.ts';
import * as m0070 from './0070_number_formats_never_repeat.ts';
import * as m0071 from './0071_access_requests_any_app.ts';
import * as m0072 from './0072_allocation_fee_part.ts';
import * as m0073 from './0073_one_account_per_address_once_accepted.ts';
import * as m0074 from './0074_transaction_id_key.ts';
import * as m0075 from './0075_top_up_resumed_at.ts';
import * as m0076 from './0076_issued_seller.ts';
import * as m0077 from './0077_bill_to_at_issue.ts';
import * as m0078 from './0078_receipt_payer.ts';
import * as m0079 from './0079_snapshots_once_per_statement.ts';
import * as m0080 from './0080_audit_keys_not_sampled.ts';
import * as m0081 from './0081_audit_chain_head_first.ts';

/** Every migration, in order. Append only: an applied migration is never edited. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0003_audit_notifications': m0003,
  '0010_ledger': m0010,
  '0011_gateway': m0011,
  '0012_idempotency': m0012,
  '0013_usage': m0013,
  '0014_topup': m0014,
  '0015_finance_usage': m0015,
  '0016_ledger_feed': m0016,
  '0020_catalog': m0020,
  '0021_subscriptions': m0021,
  '0022_services': m0022,
  '0023_catalog_import': m0023,
  '0024_customer_profile': m0024,
  '0025_renewals': m0025,
  '0026_set_based_references': m0026,
  '0027_invoices': m0027,
  '0029_invoice_terms': m0029,
  '0031_payments': m0031,
  '0032_credit_notes': m0032,
  '0033_bank_statements': m0033,
  '0034_audit_app': m0034,
  '0035_discounts': m0035,
  '0036_topup_policy_contact_sales': m0036,
  '0037_payment_receipts': m0037,
  '0038_audit_search_keys': m0038,
  '0039_feed_covering_index': m0039,
  '0040_postings_account_partner_only': m0040,
  '0041_partner_rows_at_commit': m0041,
  '0042_audit_keys_before_commit': m0042,
  '0043_pending_balances_by_key': m0043,
  '0044_fewer_index_writes_per_call': m0044,
  '0045_call_entry_checked_per_statement': m0045,
  '0046_tenant_wall_settings_once': m0046,
  '0047_pending_balances_by_account_key': m0047,
  '0048_room_for_balance_updates': m0048,
  '0049_audit_keys_pending_list': m0049,
  '0050_call_totals_on_accounts': m0050,
  '0051_balances_in_one_pass': m0051,
  '0052_postings_name_their_account_customer': m0052,
  '0053_ledger_checks': m0053,
  '0054_audit_chain_full_pass': m0054,
  '0055_call_tax': m0055,
  '0056_pay_attempt_resumed_at': m0056,
  '0057_rate_tax_category': m0057,
  '0058_audit_queue_by_key': m0058,
  '0059_audit_queue_keys_by_trigger': m0059,
  '0060_pending_balances_one_update': m0060,
  '0061_audit_search_text_by_trigger': m0061,
  '0062_pending_balances_commit_by_key': m0062,
  '0063_account_codes_table': m0063,
  '0064_low_balance_alerts': m0064,
  '0065_subscription_refund_invoices': m0065,
  '0066_invoice_payment_receipts': m0066,
  '0067_portal_invoice_order': m0067,
  '0068_subscription_version': m0068,
  '0069_customer_search_by_id_part': m0069,
  '0070_number_formats_never_repeat': m0070,
  '0071_access_requests_any_app': m0071,
  '0072_allocation_fee_part': m0072,
  '0073_one_account_per_address_once_accepted': m0073,
  '0074_transaction_id_key': m0074,
  '0075_top_up_resumed_at': m0075,
  '0076_issued_seller': m0076,
  '0077_bill_to_at_issue': m0077,
  '0078_receipt_payer': m0078,
  '0079_snapshots_once_per_statement': m0079,
  '0080_audit_keys_not_sampled': m0080,
  '0081_audit_chain_head_first': m0081,
};
