import { useId, useState } from "react";
import type { ChannelStatus } from "../../bindings/ChannelStatus";
import type { LinkQuality } from "../../bindings/LinkQuality";
import { QUALITY_BARS, QUALITY_LABELS, QUALITY_ORDER, QUALITY_RULES, qualityReason } from "../../lib/connections";

/** Three signal bars, `lit` of them filled. */
export function SignalBars({ quality, colored = false }: { quality: LinkQuality; colored?: boolean }) {
  const lit = QUALITY_BARS[quality];
  return (
    <svg className={colored ? `conn-bars conn-q-${quality}` : "conn-bars"} width="14" height="12" viewBox="0 0 14 12" aria-hidden="true" focusable="false">
      {[0, 1, 2].map((i) => (
        <rect key={i} x={i * 5} y={8 - i * 4} width="3.5" height={4 + i * 4} rx="1" className={i < lit ? "is-lit" : undefined} />
      ))}
    </svg>
  );
}

/**
 * A channel's link quality: signal bars and a word, with a tooltip (on hover or keyboard focus,
 * Escape closes it) saying why it has this level and the rule behind the four levels.
 */
export function QualityIndicator({ status }: { status: ChannelStatus }) {
  const tipId = useId();
  const [open, setOpen] = useState(false);
  const { quality } = status;
  const label = QUALITY_LABELS[quality];

  return (
    <span className="conn-quality-wrap" onMouseEnter={() => setOpen(true)} onMouseLeave={() => setOpen(false)}>
      <button
        type="button"
        className={`conn-quality conn-q-${quality}`}
        aria-label={`Link quality: ${label}`}
        aria-describedby={open ? tipId : undefined}
        data-testid="conn-quality"
        data-quality={quality}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onClick={() => setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === "Escape" && open) {
            e.stopPropagation();
            setOpen(false);
          }
        }}
      >
        <SignalBars quality={quality} />
        {label}
      </button>
      {open ? (
        <span role="tooltip" id={tipId} className="conn-tip" data-testid="conn-quality-tip">
          <span className="conn-tip-now">
            {label}: {qualityReason(status)}.
          </span>
          <span className="conn-tip-rules">
            {QUALITY_ORDER.map((q) => (
              <span key={q} className={q === quality ? "is-current" : undefined}>
                <SignalBars quality={q} colored />
                <span>
                  <strong>{QUALITY_LABELS[q]}</strong> — {QUALITY_RULES[q]}
                </span>
              </span>
            ))}
          </span>
        </span>
      ) : null}
    </span>
  );
}
