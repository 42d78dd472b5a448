//! Value parsers for the command line: core's string enums (accepted values come from core's
//! own `ALL` lists, so a broker added in core is accepted without a second list to keep in
//! sync; aliases such as `sandbox` are added here), `none`-able limits, warning levels, time
//! windows, and secrets, which become a [`Secret`] as soon as clap hands them over.

use brokerdesk_core::accounts::model::{
    AccountStatus, BreachAction, BrokerKind, DailyBase, Environment, MaxLossMode, PropFirmPreset,
    Timeframe, TradingMode,
};
use brokerdesk_core::audit::AuditEvent;
use brokerdesk_core::{Decimal, Secret};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// A numeric limit flag: a value, or `none` to remove the limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit<T> {
    Set(T),
    Clear,
}

impl<T> Limit<T> {
    pub fn into_option(self) -> Option<T> {
        match self {
            Limit::Set(v) => Some(v),
            Limit::Clear => None,
        }
    }
}

fn limit<T: std::str::FromStr>(s: &str) -> Result<Limit<T>, String> {
    let t = s.trim();
    if ["none", "off", "clear"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(Limit::Clear);
    }
    t.parse()
        .map(Limit::Set)
        .map_err(|_| format!("{s:?} is not a number (or `none`)"))
}

/// A decimal limit, exactly as typed (`0.75`, `30`); `none` removes it.
pub fn limit_decimal(s: &str) -> Result<Limit<Decimal>, String> {
    let t = s.trim();
    if ["none", "off", "clear"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(Limit::Clear);
    }
    brokerdesk_core::money::parse(t)
        .map(Limit::Set)
        .map_err(|_| format!("{s:?} is not a number (or `none`)"))
}

pub fn limit_u32(s: &str) -> Result<Limit<u32>, String> {
    limit(s)
}

/// Warning levels (% of a budget used), as typed; core checks the range.
#[derive(Clone, Debug, PartialEq)]
pub struct Levels(pub Vec<u8>);

/// `50,80,95` (spaces allowed), or `none` for no warnings.
pub fn parse_levels(s: &str) -> Result<Levels, String> {
    let t = s.trim();
    if t.is_empty()
        || ["none", "off", "clear"]
            .iter()
            .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Ok(Levels(Vec::new()));
    }
    t.split(',')
        .map(|l| {
            let l = l.trim().trim_end_matches('%');
            l.parse::<u8>()
                .map_err(|_| format!("{l:?} is not a percentage between 1 and 99"))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Levels)
}

/// A daily window as typed; core validates the times.
#[derive(Clone, Debug)]
pub struct Hours {
    pub start: String,
    pub end: String,
}

pub fn parse_hours(s: &str) -> Result<Hours, String> {
    let (start, end) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not HH:MM-HH:MM"))?;
    Ok(Hours {
        start: start.trim().to_string(),
        end: end.trim().to_string(),
    })
}

pub fn secret_parser() -> impl TypedValueParser<Value = Secret> {
    clap::builder::NonEmptyStringValueParser::new().map(Secret::new)
}

/// Accepts the values of one of core's string enums (case-insensitive), plus aliases.
#[derive(Clone)]
pub struct CoreEnum<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
    aliases: &'static [(&'static str, T)],
}

impl<T> CoreEnum<T>
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    fn possible(&self) -> impl Iterator<Item = PossibleValue> + '_ {
        self.all.iter().map(|v| {
            let aliases = self.aliases.iter().filter(|(_, t)| t == v).map(|(a, _)| *a);
            PossibleValue::new((self.name)(*v)).aliases(aliases)
        })
    }
}

impl<T> TypedValueParser for CoreEnum<T>
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        // Let clap produce its usual "invalid value … possible values …" error.
        let s = PossibleValuesParser::new(self.possible()).parse_ref(cmd, arg, value)?;
        self.all
            .iter()
            .find(|v| (self.name)(**v).eq_ignore_ascii_case(&s))
            .or_else(|| {
                self.aliases
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(&s))
                    .map(|(_, t)| t)
            })
            .copied()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.possible()))
    }
}

pub fn broker_parser() -> CoreEnum<BrokerKind> {
    CoreEnum {
        all: BrokerKind::ALL,
        name: BrokerKind::as_str,
        aliases: &[],
    }
}

pub fn side_parser() -> CoreEnum<brokerdesk_core::brokers::OrderSide> {
    use brokerdesk_core::brokers::OrderSide;
    CoreEnum {
        all: OrderSide::ALL,
        name: OrderSide::as_str,
        aliases: &[],
    }
}

pub fn order_type_parser() -> CoreEnum<brokerdesk_core::brokers::OrderType> {
    use brokerdesk_core::brokers::OrderType;
    CoreEnum {
        all: OrderType::ALL,
        name: OrderType::as_str,
        aliases: &[],
    }
}

pub fn tif_parser() -> CoreEnum<brokerdesk_core::trading::TimeInForce> {
    use brokerdesk_core::trading::TimeInForce;
    CoreEnum {
        all: TimeInForce::ALL,
        name: TimeInForce::as_str,
        aliases: &[],
    }
}

pub fn mode_parser() -> CoreEnum<TradingMode> {
    CoreEnum {
        all: TradingMode::ALL,
        name: TradingMode::as_str,
        aliases: &[],
    }
}

pub fn env_parser() -> CoreEnum<Environment> {
    CoreEnum {
        all: Environment::ALL,
        name: Environment::as_str,
        aliases: &[
            ("paper", Environment::Practice),
            ("sandbox", Environment::Practice),
        ],
    }
}

pub fn prop_firm_parser() -> CoreEnum<PropFirmPreset> {
    CoreEnum {
        all: PropFirmPreset::ALL,
        name: PropFirmPreset::as_str,
        aliases: &[
            ("fundednext", PropFirmPreset::FundedNext),
            ("funded-next", PropFirmPreset::FundedNext),
            ("ftmo-1step", PropFirmPreset::Ftmo1Step),
            ("fundednext_1step", PropFirmPreset::FundedNext1Step),
            ("funded-next-1step", PropFirmPreset::FundedNext1Step),
        ],
    }
}

pub fn status_parser() -> CoreEnum<AccountStatus> {
    CoreEnum {
        all: AccountStatus::ALL,
        name: AccountStatus::as_str,
        aliases: &[("in-drawdown", AccountStatus::InDrawdown)],
    }
}

pub fn daily_base_parser() -> CoreEnum<DailyBase> {
    CoreEnum {
        all: DailyBase::ALL,
        name: DailyBase::as_str,
        aliases: &[],
    }
}

pub fn max_loss_mode_parser() -> CoreEnum<MaxLossMode> {
    CoreEnum {
        all: MaxLossMode::ALL,
        name: MaxLossMode::as_str,
        aliases: &[],
    }
}

pub fn breach_parser() -> CoreEnum<BreachAction> {
    CoreEnum {
        all: BreachAction::ALL,
        name: BreachAction::as_str,
        aliases: &[],
    }
}

pub fn timeframe_parser() -> CoreEnum<Timeframe> {
    CoreEnum {
        all: Timeframe::ALL,
        name: Timeframe::as_str,
        aliases: &[],
    }
}

pub fn audit_event_parser() -> CoreEnum<AuditEvent> {
    CoreEnum {
        all: AuditEvent::ALL,
        name: AuditEvent::as_str,
        aliases: &[],
    }
}
