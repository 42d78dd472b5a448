import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";

/** The broker catalog the fake backend serves (browser tests only; the real one comes from Rust). */
export const MOCK_BROKERS: BrokerInfo[] = [
  {
    kind: "paper",
    label: "Paper",
    description: "Built-in simulated broker. Fills against streamed prices; no credentials.",
    environments: [{ environment: "practice", label: "Simulated", restUrl: null, streamUrl: null }],
    credentialFields: [],
    accountIdRequired: false,
    accountIdLabel: "",
    accountIdPlaceholder: "",
    accountIdHelp: "",
  },
  {
    kind: "oanda",
    label: "OANDA",
    description: "Forex and CFDs through the v20 REST and streaming API.",
    environments: [
      { environment: "practice", label: "Practice", restUrl: "https://api-fxpractice.oanda.com", streamUrl: "https://stream-fxpractice.oanda.com" },
      { environment: "live", label: "Live", restUrl: "https://api-fxtrade.oanda.com", streamUrl: "https://stream-fxtrade.oanda.com" },
    ],
    credentialFields: [
      { field: "api_key", label: "Personal access token", help: "Create one under My Services → Manage API Access.", required: true },
    ],
    // Like the real catalog: a token reaching one account fills it in; several, the app shows a picker.
    accountIdRequired: false,
    accountIdLabel: "v20 account ID",
    accountIdPlaceholder: "101-004-1234567-001",
    accountIdHelp: "Leave empty to pick one of the token's accounts once connected.",
  },
  {
    kind: "alpaca",
    label: "Alpaca",
    description: "US stocks, ETFs and options, commission-free.",
    environments: [
      { environment: "practice", label: "Paper", restUrl: "https://paper-api.alpaca.markets", streamUrl: "wss://stream.data.alpaca.markets" },
      { environment: "live", label: "Live", restUrl: "https://api.alpaca.markets", streamUrl: "wss://stream.data.alpaca.markets" },
    ],
    credentialFields: [
      { field: "api_key", label: "API key ID", help: "From the dashboard's API Keys panel.", required: true },
      { field: "api_secret", label: "Secret key", help: "Shown only once, when the key is created.", required: true },
    ],
    accountIdRequired: false,
    accountIdLabel: "Account number",
    accountIdPlaceholder: "PA1234567890",
    accountIdHelp: "Optional; read from the API when empty.",
  },
  {
    kind: "tradier",
    label: "Tradier",
    description: "US equities and options brokerage API.",
    environments: [
      { environment: "practice", label: "Sandbox", restUrl: "https://sandbox.tradier.com", streamUrl: "wss://sandbox.tradier.com" },
      { environment: "live", label: "Live", restUrl: "https://api.tradier.com", streamUrl: "wss://ws.tradier.com" },
    ],
    credentialFields: [{ field: "api_key", label: "Access token", help: "From Settings → API Access.", required: true }],
    accountIdRequired: true,
    accountIdLabel: "Account number",
    accountIdPlaceholder: "VA12345678",
    accountIdHelp: "The brokerage account to trade.",
  },
  {
    kind: "tastytrade",
    label: "Tastytrade",
    description: "Options, futures and equities.",
    environments: [
      { environment: "practice", label: "Certification", restUrl: "https://api.cert.tastyworks.com", streamUrl: "wss://streamer.cert.tastyworks.com" },
      { environment: "live", label: "Live", restUrl: "https://api.tastyworks.com", streamUrl: "wss://streamer.tastyworks.com" },
    ],
    credentialFields: [
      { field: "api_key", label: "Client secret", help: "From your OAuth application.", required: true },
      { field: "api_secret", label: "Refresh token", help: "A personal grant's refresh token.", required: true },
    ],
    accountIdRequired: true,
    accountIdLabel: "Account number",
    accountIdPlaceholder: "5WT00001",
    accountIdHelp: "",
  },
  {
    kind: "ibkr",
    label: "Interactive Brokers",
    description: "Through the Client Portal gateway running on this computer.",
    environments: [
      { environment: "practice", label: "Paper", restUrl: "https://localhost:5000/v1/api", streamUrl: "wss://localhost:5000/v1/api/ws" },
      { environment: "live", label: "Live", restUrl: "https://localhost:5000/v1/api", streamUrl: "wss://localhost:5000/v1/api/ws" },
    ],
    credentialFields: [],
    accountIdRequired: true,
    accountIdLabel: "Account ID",
    accountIdPlaceholder: "DU1234567",
    accountIdHelp: "Sign in to the gateway in your browser; Brokerdesk uses its session.",
  },
];

export const MOCK_PRESETS: PropFirmPresetInfo[] = [
  { preset: "none", label: "None", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
  { preset: "ftmo", label: "FTMO", maxDailyLossPct: "5", maxTotalLossPct: "10", profitTargetPct: "10" },
  { preset: "funded_next", label: "FundedNext", maxDailyLossPct: "5", maxTotalLossPct: "10", profitTargetPct: "8" },
  { preset: "the5ers", label: "The5ers", maxDailyLossPct: "5", maxTotalLossPct: "6", profitTargetPct: "8" },
  { preset: "custom", label: "Custom", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
];
