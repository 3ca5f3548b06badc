// The built-in notebooks: each names itself (the `?notebook=` of the page's URL), says which
// source and topic it expects, the size_offset it starts from, which of its tables the chart
// plots, and holds its cells: async JavaScript bodies that see `session`, `Agg` and every name
// earlier cells returned (size_offset included), and return the names they make. A cell's
// `show` lists the tables whose panels open in it; `together` runs it and every later cell as
// one script, with no cycle between them (the seed's consumers and what they feed).
//
// `settled(panels)` (optional) is checked every frame once the cells ran and the consumers
// caught up, until it holds: then the page says the notebook's `claim` and how long it took (the
// seed's: both aggregations equal), and logs it for tests/e2e/seed-bench.mjs.

const TRADES_TOPIC = "io.deephaven.crypto.kafka.TradesTopic";

// Deephaven's "Stream vs. Append in the Kafka ingestor", cell by cell.
const SEED_CELLS = [
  {
    name: "latest_offset",
    title: "The latest offset, from a live stream table",
    code: `const latest = await session.consumeToTable({ offsets: "each:-1", tableType: "stream" });
const latest_offset = latest.view(["KafkaPartition", "KafkaOffset"]).lastBy(["KafkaPartition"]);
return { latest, latest_offset };`,
    show: ["latest_offset"],
  },
  {
    name: "offset_variable",
    title: "“size_offset events ago”: a snapshot, then the seek",
    code: `// Once the live table has the newest record of every partition (its consumer caught up,
// and a cycle ran since), a static snapshot of them.
const sleep = () => new Promise((r) => setTimeout(r, 20));
const feed = () => session.status().consumers.find((c) => c.tables.includes(latest.id));
while (!feed()?.caughtUp) {
  if (feed()?.failed) throw new Error(feed().failed);
  await sleep();
}
for (const cycle = session.cycles(); session.cycles() === cycle; ) await sleep();
const snapshot = session.emptyTable(0).snapshot(latest_offset);
const ends = new Map();
for (let i = 0; i < snapshot.size; i++) {
  ends.set(snapshot.getColumn("KafkaPartition").get(i), Number(snapshot.getColumn("KafkaOffset").get(i)) + 1);
}
// size_offset events before the latest offsets, spread over the partitions as Redpanda's
// "newest N" does: an equal share from each, a short partition gives all it still holds.
const low = new Map(feed().partitions.map((p) => [p.partition, p.low]));
const held = new Map([...ends].map(([p, end]) => [p, end - (low.get(p) ?? 0)]));
const take = new Map();
let left = size_offset;
const byHeld = [...held.keys()].sort((a, b) => held.get(a) - held.get(b));
let i = 0;
for (; i < byHeld.length && held.get(byHeld[i]) <= Math.floor(left / (byHeld.length - i)); i++) {
  left -= held.get(byHeld[i]);
  take.set(byHeld[i], held.get(byHeld[i]));
}
const rest = byHeld.slice(i).sort((a, b) => a - b);
const share = Math.floor(left / Math.max(rest.length, 1));
rest.forEach((p, k) => take.set(p, share + (k < left - share * rest.length ? 1 : 0)));
const offset_variable = "{" + [...take].sort(([a], [b]) => a - b).map(([p, n]) => p + ": " + (ends.get(p) - n)).join(", ") + "}";
return { snapshot, offset_variable };`,
    show: [],
  },
  {
    name: "trades",
    title: "Ingest from there into an append table and a stream table",
    together: true,
    code: `const trades_append = await session.consumeToTable({ offsets: offset_variable, tableType: "append" });
const trades_stream = await session.consumeToTable({ offsets: offset_variable, tableType: "stream" });
return { trades_append, trades_stream };`,
    show: [],
  },
  {
    name: "agg_append",
    title: "agg_append, BTC in IVORY",
    code: `const agg_append = trades_append
  .aggBy([Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")], ["Exchange", "Instrument"])
  .sort(["Exchange", "Instrument"])
  .formatColumnWhere("Instrument", "Instrument.startsWith(\`BTC\`)", "IVORY");
return { agg_append };`,
    show: ["agg_append"],
  },
  {
    name: "agg_stream",
    title: "agg_stream",
    code: `const agg_stream = trades_stream
  .aggBy([Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")], ["Exchange", "Instrument"])
  .sort(["Exchange", "Instrument"])
  .formatColumnWhere("Instrument", "Instrument.startsWith(\`BTC\`)", "IVORY");
return { agg_stream };`,
    show: ["agg_stream"],
  },
  {
    name: "row_count_merge",
    title: "row_count_merge",
    code: `const row_count_append = trades_append.countBy("RowCount").updateView(["Table_Type = \`append\`"]);
const row_count_stream = trades_stream.dropStream().countBy("RowCount").updateView(["Table_Type = \`stream\`"]);
const row_count_merge = row_count_append.merge([row_count_stream]);
return { row_count_merge };`,
    show: ["row_count_merge"],
  },
  {
    name: "diff_table",
    title: "diff_table: every difference is zero",
    code: `const diff_table = agg_append
  .naturalJoin(agg_stream, ["Exchange", "Instrument"],
    ["Trade_Count_Stream = Trade_Count", "Total_Size_Stream = Total_Size"])
  .updateView(["Diff_Count = Trade_Count - Trade_Count_Stream",
    "Diff_Size = Total_Size - Total_Size_Stream"]);
return { diff_table };`,
    show: ["diff_table"],
  },
];

// Time on the demo's live replay: 1-minute bars, a window that moves with the live edge, the
// largest trades per instrument, rolling windows (updateBy) and an as-of join across exchanges.
const OHLC_CELLS = [
  {
    name: "trades",
    title: "The newest size_offset trades, then every live one, in an append table",
    code: `const trades = await session.consumeToTable({ offsets: "-" + size_offset, tableType: "append" });
return { trades };`,
    show: ["trades"],
  },
  {
    name: "btc_bars",
    title: "Live 1-minute OHLC bars of BTC, per exchange",
    code: `const btc_bars = trades
  .where("Instrument in \`BTC/USD\`, \`BTC/USDT\`")
  .updateView(["Minute = lowerBin(KafkaTimestamp, MINUTE)"])
  .aggBy([Agg.first("Open = Price"), Agg.max("High = Price"), Agg.min("Low = Price"),
    Agg.last("Close = Price"), Agg.sum("Volume = Size")], ["Exchange", "Instrument", "Minute"]);
return { btc_bars };`,
    show: ["btc_bars"],
  },
  {
    name: "last_5_minutes",
    title: "The trades of the last 5 minutes: the window moves with the live edge",
    code: `const last_5_minutes = trades.where("KafkaTimestamp >= now() - 'PT5m'");
return { last_5_minutes };`,
    show: ["last_5_minutes"],
  },
  {
    name: "top_trades",
    title: "The 3 largest trades by Size of each instrument",
    code: `const top_trades = trades.sortDescending(["Size"]).headBy(3, ["Instrument"]);
return { top_trades };`,
    show: ["top_trades"],
  },
  {
    name: "rolling",
    title: "Per instrument: the 100-trade moving average of Price and the 1-minute rolling volume",
    code: `// The topic's partitions arrive interleaved: a time window reads each instrument's trades in
// time order, so sort by time first (new trades mostly land at the end, where it is cheap).
const rolling = trades.sort(["KafkaTimestamp"]).updateBy([
  UpdateBy.rollingAvg({ revTicks: 100 }, ["AvgPrice100 = Price"]),
  UpdateBy.rollingSum({ timestampCol: "KafkaTimestamp", revTime: "PT1m" }, ["Volume1m = Size"]),
], ["Instrument"]).moveColumnsUp(["Instrument", "KafkaTimestamp", "Price", "AvgPrice100", "Size", "Volume1m"]);
return { rolling };`,
    show: ["rolling"],
  },
  {
    name: "spread",
    title: "Cross-exchange spread: each coinbase-pro BTC/USD trade with the latest binance BTC/USDT trade at or before it",
    code: `const binance = trades.where("Exchange = \`binance\`").where("Instrument = \`BTC/USDT\`");
const spread = trades
  .where("Exchange = \`coinbase-pro\`").where("Instrument = \`BTC/USD\`")
  .aj(binance, ["KafkaTimestamp"], ["BinancePrice = Price", "BinanceTime = KafkaTimestamp"])
  .updateView(["Spread = Price - BinancePrice"])
  .moveColumnsUp(["KafkaTimestamp", "Price", "BinanceTime", "BinancePrice", "Spread"]);
return { spread };`,
    show: ["spread"],
  },
];

/** The seed's claim: every difference in diff_table is zero, over every row it holds. */
function aggregationsEqual(panels) {
  const v = panels.get("diff_table")?.data?.viewport;
  if (!v || v.totalRows === 0 || v.rows.length < v.totalRows) return false;
  const at = ["Diff_Count", "Diff_Size"].map((c) => v.columns.indexOf(c));
  return v.rows.every((r) => at.every((i) => r[i] === 0));
}

export const NOTEBOOKS = [
  {
    name: "seed",
    title: "Stream vs. Append",
    heading: "Stream vs. Append, live in your browser",
    expects: {
      source: "any source of the trades (a recording, the demo's live replay, a Kafka broker)",
      topic: TRADES_TOPIC,
    },
    sizeOffset: 1000000,
    cells: SEED_CELLS,
    chart: [
      { name: "trades_append", label: "append", color: "#2563eb", mbColor: "#1d4ed8" },
      { name: "trades_stream", label: "stream", color: "#f59e0b", mbColor: "#d97706" },
    ],
    claim: "both aggregations equal",
    settled: aggregationsEqual,
  },
  {
    name: "ohlc",
    title: "Time on live trades",
    heading: "Time on live trades, in your browser",
    expects: {
      source: "the demo's live replay (cargo xtask demo), whose live edge the last 5 minutes follow",
      topic: TRADES_TOPIC,
    },
    sizeOffset: 250000,
    cells: OHLC_CELLS,
    chart: [{ name: "trades", label: "trades", color: "#2563eb", mbColor: "#1d4ed8" }],
  },
];

/** The notebook named `name`, else the seed's. */
export function notebookNamed(name) {
  return NOTEBOOKS.find((n) => n.name === name) ?? NOTEBOOKS[0];
}
