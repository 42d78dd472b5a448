// Generated from src-tauri/core/src/api/commands.rs and runtime/events.rs by
// `cargo test -p brokerdesk-core export_bindings`. Do not edit.
import type { Account } from "./Account";
import type { AccountConnections } from "./AccountConnections";
import type { AccountInput } from "./AccountInput";
import type { AccountMoney } from "./AccountMoney";
import type { AccountStatus } from "./AccountStatus";
import type { AccountSummary } from "./AccountSummary";
import type { AccountsChanged } from "./AccountsChanged";
import type { AppSettings } from "./AppSettings";
import type { AuditEntry } from "./AuditEntry";
import type { AuditFilter } from "./AuditFilter";
import type { AuditVerification } from "./AuditVerification";
import type { Autostart } from "./Autostart";
import type { BackupCodes } from "./BackupCodes";
import type { BackupConfig } from "./BackupConfig";
import type { BackupFile } from "./BackupFile";
import type { BackupStatus } from "./BackupStatus";
import type { BackupVerification } from "./BackupVerification";
import type { BrokerAccountRef } from "./BrokerAccountRef";
import type { BrokerInfo } from "./BrokerInfo";
import type { ChannelStats } from "./ChannelStats";
import type { CheckOutcome } from "./CheckOutcome";
import type { ClipboardItem } from "./ClipboardItem";
import type { ConfigVersion } from "./ConfigVersion";
import type { ConnectionEvent } from "./ConnectionEvent";
import type { ExportFormat } from "./ExportFormat";
import type { FeedNotice } from "./FeedNotice";
import type { HealthReport } from "./HealthReport";
import type { ImportPreview } from "./ImportPreview";
import type { InstrumentInfo } from "./InstrumentInfo";
import type { KillSwitchReport } from "./KillSwitchReport";
import type { OnConflict } from "./OnConflict";
import type { Order } from "./Order";
import type { OrderDetail } from "./OrderDetail";
import type { OrderDraft } from "./OrderDraft";
import type { OrderEstimate } from "./OrderEstimate";
import type { OrderModify } from "./OrderModify";
import type { OrderSide } from "./OrderSide";
import type { PasswordStrength } from "./PasswordStrength";
import type { PriceUpdate } from "./PriceUpdate";
import type { PropFirmPresetInfo } from "./PropFirmPresetInfo";
import type { PurgeReport } from "./PurgeReport";
import type { RiskReport } from "./RiskReport";
import type { Rollback } from "./Rollback";
import type { SavedAccount } from "./SavedAccount";
import type { StartupReport } from "./StartupReport";
import type { Tick } from "./Tick";
import type { TradingMode } from "./TradingMode";
import type { TwoFactorSetup } from "./TwoFactorSetup";
import type { TwoFactorStatus } from "./TwoFactorStatus";
import type { VaultStatus } from "./VaultStatus";

/** Every command: its arguments (camelCase) and what it resolves to. */
export interface Commands {
  vault_status: { args: Record<string, never>; result: VaultStatus };
  vault_init: { args: { password: string | null }; result: VaultStatus };
  vault_unlock: { args: { password: string | null }; result: VaultStatus };
  vault_lock: { args: Record<string, never>; result: VaultStatus };
  vault_change_password: { args: { current: string | null; newPassword: string }; result: VaultStatus };
  vault_password_strength: { args: { password: string }; result: PasswordStrength };
  vault_rotate_key: { args: Record<string, never>; result: VaultStatus };
  broker_catalog: { args: Record<string, never>; result: Array<BrokerInfo> };
  prop_firm_presets: { args: Record<string, never>; result: Array<PropFirmPresetInfo> };
  accounts_list: { args: Record<string, never>; result: Array<Account> };
  account_get: { args: { id: string }; result: Account };
  account_add: { args: { input: AccountInput; check: boolean | null }; result: SavedAccount };
  account_update: { args: { id: string; input: AccountInput; check: boolean | null }; result: SavedAccount };
  account_remove: { args: { id: string }; result: null };
  account_set_mode: { args: { id: string; mode: TradingMode }; result: Account };
  account_verify: { args: { id: string }; result: AccountSummary };
  account_check: { args: { id: string | null; input: AccountInput }; result: CheckOutcome };
  broker_accounts: { args: { input: AccountInput }; result: Array<BrokerAccountRef> };
  account_trust_certificate: { args: { id: string; fingerprint: string }; result: Account };
  credentials_purge: { args: Record<string, never>; result: PurgeReport };
  watchlist_set: { args: { id: string; instruments: Array<string> }; result: Account };
  instruments_search: { args: { id: string; query: string }; result: Array<InstrumentInfo> };
  prices_snapshot: { args: { id: string }; result: Array<Tick> };
  connections_snapshot: { args: Record<string, never>; result: Array<AccountConnections> };
  connection_reconnect: { args: { accountId: string }; result: null };
  connections_reconnect_all: { args: Record<string, never>; result: null };
  twofa_status: { args: Record<string, never>; result: TwoFactorStatus };
  twofa_setup: { args: Record<string, never>; result: TwoFactorSetup };
  twofa_enable: { args: { code: string }; result: BackupCodes };
  twofa_verify: { args: { code: string }; result: TwoFactorStatus };
  twofa_disable: { args: Record<string, never>; result: TwoFactorStatus };
  twofa_regenerate_backup_codes: { args: Record<string, never>; result: BackupCodes };
  audit_list: { args: { filter: AuditFilter }; result: Array<AuditEntry> };
  audit_verify: { args: Record<string, never>; result: AuditVerification };
  audit_export_csv: { args: { filter: AuditFilter }; result: string };
  config_export: { args: { format: ExportFormat; accounts: Array<string>; passphrase: string | null }; result: string };
  config_import_preview: { args: { text: string; passphrase: string | null; onConflict: OnConflict | null }; result: ImportPreview };
  config_import_apply: { args: { text: string; passphrase: string | null; onConflict: OnConflict | null }; result: ImportPreview };
  config_history: { args: { of: string | null }; result: Array<ConfigVersion> };
  config_rollback: { args: { version: number }; result: Rollback };
  backup_status: { args: Record<string, never>; result: BackupStatus };
  backup_set_passphrase: { args: { passphrase: string }; result: BackupStatus };
  backup_configure: { args: { config: BackupConfig }; result: BackupStatus };
  backup_create: { args: Record<string, never>; result: BackupFile };
  backup_list: { args: Record<string, never>; result: Array<BackupFile> };
  backup_verify: { args: { name: string }; result: BackupVerification };
  health: { args: { deep: boolean }; result: HealthReport };
  startup_report: { args: Record<string, never>; result: StartupReport };
  startup_check: { args: Record<string, never>; result: StartupReport };
  settings_get: { args: Record<string, never>; result: AppSettings };
  settings_update: { args: { settings: AppSettings }; result: AppSettings };
  order_place: { args: { accountId: string; draft: OrderDraft }; result: Order };
  order_cancel: { args: { accountId: string; orderId: string }; result: Order };
  order_modify: { args: { accountId: string; orderId: string; change: OrderModify }; result: Order };
  orders_cancel_live: { args: { accountId: string }; result: Array<Order> };
  orders_list: { args: { accountId: string; open: boolean | null }; result: Array<Order> };
  order_show: { args: { accountId: string; orderId: string }; result: OrderDetail };
  order_estimate: { args: { accountId: string; symbol: string; side: OrderSide; quantity: string; price: string | null }; result: OrderEstimate };
  account_money: { args: { accountId: string }; result: AccountMoney };
  position_close: { args: { accountId: string; symbol: string }; result: Order };
  paper_reset: { args: { accountId: string; balance: string | null }; result: AccountMoney };
  orders_review: { args: Record<string, never>; result: Array<Order> };
  order_review_resolve: { args: { orderId: string; placedBrokerId: string | null }; result: Order };
  risk_report: { args: { accountId: string }; result: RiskReport };
  risk_reports: { args: Record<string, never>; result: Array<RiskReport> };
  account_set_status: { args: { id: string; status: AccountStatus; reason: string | null }; result: Account };
  account_forget_credentials: { args: { id: string }; result: Account };
  kill_switch: { args: { flatten: boolean }; result: KillSwitchReport };
  app_activity: { args: Record<string, never>; result: null };
  autostart_status: { args: Record<string, never>; result: Autostart };
  autostart_set: { args: { enabled: boolean }; result: Autostart };
  notify_test: { args: Record<string, never>; result: null };
  clipboard_copy: { args: { item: ClipboardItem }; result: null };
  connections_diagnostics: { args: { account: string }; result: string };
}

/** Every event the window receives: its name and payload. */
export interface Events {
  "vault-status": VaultStatus;
  "twofa-status": TwoFactorStatus;
  "accounts-changed": AccountsChanged;
  "settings-changed": AppSettings;
  "connections-changed": AccountsChanged;
  "connection-event": ConnectionEvent;
  "connection-stats": Array<ChannelStats>;
  "price-update": PriceUpdate;
  "price-notice": FeedNotice;
  "order-update": Order;
  "orders-changed": AccountsChanged;
  "account-money": AccountMoney;
  "risk-update": RiskReport;
  "safe-state": StartupReport;
}

/** The command names. */
export const COMMANDS = [
  "vault_status",
  "vault_init",
  "vault_unlock",
  "vault_lock",
  "vault_change_password",
  "vault_password_strength",
  "vault_rotate_key",
  "broker_catalog",
  "prop_firm_presets",
  "accounts_list",
  "account_get",
  "account_add",
  "account_update",
  "account_remove",
  "account_set_mode",
  "account_verify",
  "account_check",
  "broker_accounts",
  "account_trust_certificate",
  "credentials_purge",
  "watchlist_set",
  "instruments_search",
  "prices_snapshot",
  "connections_snapshot",
  "connection_reconnect",
  "connections_reconnect_all",
  "twofa_status",
  "twofa_setup",
  "twofa_enable",
  "twofa_verify",
  "twofa_disable",
  "twofa_regenerate_backup_codes",
  "audit_list",
  "audit_verify",
  "audit_export_csv",
  "config_export",
  "config_import_preview",
  "config_import_apply",
  "config_history",
  "config_rollback",
  "backup_status",
  "backup_set_passphrase",
  "backup_configure",
  "backup_create",
  "backup_list",
  "backup_verify",
  "health",
  "startup_report",
  "startup_check",
  "settings_get",
  "settings_update",
  "order_place",
  "order_cancel",
  "order_modify",
  "orders_cancel_live",
  "orders_list",
  "order_show",
  "order_estimate",
  "account_money",
  "position_close",
  "paper_reset",
  "orders_review",
  "order_review_resolve",
  "risk_report",
  "risk_reports",
  "account_set_status",
  "account_forget_credentials",
  "kill_switch",
  "app_activity",
  "autostart_status",
  "autostart_set",
  "notify_test",
  "clipboard_copy",
  "connections_diagnostics",
] as const satisfies readonly (keyof Commands)[];

/** The event names. */
export const EVENTS = [
  "vault-status",
  "twofa-status",
  "accounts-changed",
  "settings-changed",
  "connections-changed",
  "connection-event",
  "connection-stats",
  "price-update",
  "price-notice",
  "order-update",
  "orders-changed",
  "account-money",
  "risk-update",
  "safe-state",
] as const satisfies readonly (keyof Events)[];
