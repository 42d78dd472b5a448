import { memo } from "react";
import type { RingBuffer } from "../../lib/prices";
import { sparklinePath } from "../../lib/prices";

interface Props {
  history: RingBuffer;
  /** Changes whenever the history does (the ring itself is mutated in place). */
  version: number;
  tone: "up" | "down" | "flat";
  label: string;
  width?: number;
  height?: number;
}

/** The mid price of the last minutes as a small line with a faint area under it. */
export const Sparkline = memo(function Sparkline({ history, version, tone, label, width = 88, height = 26 }: Props) {
  const values = history.toValues();
  const line = sparklinePath(values, width, height);
  return (
    <svg
      className={`wl-spark wl-spark-${tone}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      data-points={values.length}
      data-version={version}
    >
      {line ? (
        <>
          <path className="wl-spark-area" d={`${line}L${width - 1},${height}L1,${height}Z`} />
          <path className="wl-spark-line" d={line} />
        </>
      ) : (
        <line className="wl-spark-empty" x1={1} x2={width - 1} y1={height / 2} y2={height / 2} />
      )}
    </svg>
  );
});
