"""The peer of the stream benchmark: Alpaca's official Python SDK (alpaca-py) reading quotes
from the simulator, used the way its docs show (StockDataStream, subscribe_quotes, an async
handler per quote; msgpack, as the SDK asks for).

    python alpaca_py_stream.py WS_URL KEY SECRET SYMBOLS COUNT

Prints one JSON line: {"quotes": N, "seconds": S, "perSecond": R}, timed from the first
quote to the COUNT-th (the connection and subscription are not counted).
"""

import json
import sys
import time

from alpaca.data.enums import DataFeed
from alpaca.data.live import StockDataStream


def main() -> None:
    url, key, secret, symbols, count = sys.argv[1:6]
    want = int(count)
    stream = StockDataStream(key, secret, feed=DataFeed.IEX, url_override=url)
    state = {"n": 0, "first": 0.0, "last": 0.0}

    async def on_quote(_quote) -> None:
        n = state["n"] = state["n"] + 1
        now = time.perf_counter()
        if n == 1:
            state["first"] = now
        if n == want:
            state["last"] = now
            await stream.stop_ws()

    stream.subscribe_quotes(on_quote, *symbols.split(","))
    stream.run()
    seconds = max(state["last"] - state["first"], 1e-9)
    print(json.dumps({"quotes": state["n"], "seconds": seconds, "perSecond": (state["n"] - 1) / seconds}))


if __name__ == "__main__":
    main()
