#!/usr/bin/env bash
# The asp tool end to end, on exact outputs: convert, inspect, play (offsets, formats, pacing
# flags), record (stdin, TCP and websocket from `asp play --to tcp-server / ws-server`, a
# signal), and its errors.
# Usage: tool_test.sh ASP WORK_DIR
set -euo pipefail
asp="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
failures=0

# outcome COMMAND...: what the command writes on stderr, then " / " and its exit status.
outcome() {
  local out status
  set +e
  out="$("$@" 2>&1 >/dev/null)"
  status=$?
  set -e
  echo "$out / $status"
}

# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" != "$3" ]; then
    echo "FAILED: $1"
    echo "--- expected"
    echo "$2"
    echo "--- actual"
    echo "$3"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

cat > quotes.csv <<'CSV'
ts,symbol,bid,ask,size,firm
1735723800000,ACME,10.1,10.2,100,true
1735723801500,INIT,20,20.5,7,false
1735723860000,ACME,10.15,10.25,300,true
1735723920250,"Big, Co",1e-05,2,1,true
CSV

"$asp" convert quotes.csv quotes.asplog --epoch ms 2> convert.err
expect "convert reports what it wrote" "wrote 4 records to quotes.asplog" "$(cat convert.err)"
"$asp" convert quotes.asplog back.csv 2> /dev/null
expect "CSV to a log and back gives the same file" "$(cat quotes.csv)" "$(cat back.csv)"

expect "inspect a log" "quotes.asplog: record log, $(stat -c %s quotes.asplog) bytes
creator: asp convert
index: complete, 1 chunks
streams:
  quotes: 4 records, 2025-01-01T09:30:00.000000000Z .. 2025-01-01T09:32:00.250000000Z, 0.02495 ev/s, out of order: 0
    schema: table ts=ms@0 symbol:text,bid:f64,ask:f64,size:i64,firm:bool
total: 4 records, 2025-01-01T09:30:00.000000000Z .. 2025-01-01T09:32:00.250000000Z (2m00.2s), 0.02495 ev/s, out of order: 0
largest gaps:
  1m00.2s after 2025-01-01T09:31:00.000000000Z
  58.5s after 2025-01-01T09:30:01.500000000Z
  1.5s after 2025-01-01T09:30:00.000000000Z
torn tail: none
corrupt records skipped: 0" "$("$asp" inspect quotes.asplog)"

expect "play from an offset to a time, as JSON" \
'{"time":"2025-01-01T09:30:01.500000000Z","stream":"quotes","symbol":"INIT","bid":20,"ask":20.5,"size":7,"firm":false}
{"time":"2025-01-01T09:31:00.000000000Z","stream":"quotes","symbol":"ACME","bid":10.15,"ask":10.25,"size":300,"firm":true}' \
  "$("$asp" play quotes.asplog --start +1s --end 2025-01-01T09:31:00Z --format json --quiet)"

expect "play a CSV file as raw rows" 'ACME,10.1,10.2,100,true
INIT,20,20.5,7,false
ACME,10.15,10.25,300,true
"Big, Co",1e-05,2,1,true' "$("$asp" play quotes.csv --epoch ms --format raw --quiet)"

expect "play reports what it played" \
  "played 4 records (2025-01-01T09:30:00.000000000Z .. 2025-01-01T09:32:00.250000000Z)" \
  "$("$asp" play quotes.asplog 2>&1 >/dev/null | sed 's/ in .*//')"

# Compressed chunks: the same records, from a smaller file.
"$asp" convert quotes.csv zquotes.asplog --epoch ms --zstd 3 2> /dev/null
expect "a compressed log plays the same" "$("$asp" play quotes.asplog --format json --quiet)" \
  "$("$asp" play zquotes.asplog --format json --quiet)"

# A dataset: the CSV split into a file per minute of event time, then played, inspected and
# converted back as one log.
"$asp" convert quotes.csv qset --epoch ms --split-duration 1m 2> convert.err
expect "convert into a dataset" "wrote 4 records to qset (3 files)" "$(cat convert.err)"
expect "a dataset's files" "00000000.asplog
00000000.asplog.idx
00000001.asplog
00000001.asplog.idx
00000002.asplog
00000002.asplog.idx" "$(ls qset)"
expect "a dataset plays as the log" "$("$asp" play quotes.asplog --format json --quiet)" \
  "$("$asp" play qset --format json --quiet)"
expect "a dataset plays from a time across its files" \
  "$("$asp" play quotes.asplog --start +1s --format json --quiet)" \
  "$("$asp" play qset --start +1s --format json --quiet)"
"$asp" convert qset qback.csv 2> /dev/null
expect "a dataset converts back to the CSV" "$(cat quotes.csv)" "$(cat qback.csv)"
expect "inspect a dataset" "qset: dataset of 3 record logs, $(cat qset/*.asplog | wc -c) bytes
files:
  qset/00000000.asplog: $(stat -c %s qset/00000000.asplog) bytes, 2 records, 2025-01-01T09:30:00.000000000Z .. 2025-01-01T09:30:01.500000000Z
  qset/00000001.asplog: $(stat -c %s qset/00000001.asplog) bytes, 1 records, 2025-01-01T09:31:00.000000000Z .. 2025-01-01T09:31:00.000000000Z
  qset/00000002.asplog: $(stat -c %s qset/00000002.asplog) bytes, 1 records, 2025-01-01T09:32:00.250000000Z .. 2025-01-01T09:32:00.250000000Z
creator: asp convert
index: complete, 3 chunks" "$("$asp" inspect qset | head -7)"
mkdir -p qone && cp quotes.asplog qone/
expect "inspect a directory of one log" "qone: dataset of 1 record logs, $(stat -c %s quotes.asplog) bytes
files:
  qone/quotes.asplog: $(stat -c %s quotes.asplog) bytes, 4 records, 2025-01-01T09:30:00.000000000Z .. 2025-01-01T09:32:00.250000000Z" \
  "$("$asp" inspect qone | head -3)"
expect "inspect a dataset: the whole" "$("$asp" inspect quotes.asplog | tail -n +4)" \
  "$("$asp" inspect qset | tail -n +8)"
seq 1 500 | "$asp" record --from stdin --out rset --split-size 1K --fsync every --quiet
expect "record into a dataset by size: every line once, in order" "$(seq 1 500)" \
  "$("$asp" play rset --format raw --quiet)"
expect "record into a dataset by size: no file over 1 KiB" "" \
  "$(find rset -name '*.asplog' -size +1024c)"
set +e
out="$("$asp" record --from stdin --out rset --split-size 1K < /dev/null 2>&1)"
status=$?
set -e
expect "a dataset is not recorded over" \
  "asp: cannot create the dataset rset: it holds logs already (00000000.asplog): File exists / 1" \
  "$out / $status"

# Hostile input. A header (with a valid CRC) whose table schema puts the time column past the
# last column: refused by name, not a crash.
/usr/bin/python3 - quotes.asplog badschema.asplog <<'PY'
import sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
data = open(sys.argv[1], "rb").read()
at = data.index(b"crc: ")
header = data[:at].replace(b"ts=ms@0", b"ts=ms@9")
rest = data[data.index(b"\n", at) + 1:]
open(sys.argv[2], "wb").write(header + b"crc: %08x\n" % crc32c(header) + rest)
PY
schema_error="asp: badschema.asplog: stream 'quotes': the table schema 'table ts=ms@9 symbol:text,bid:f64,ask:f64,size:i64,firm:bool' puts its time column at position 9, past its 6 columns"
expect "a schema past its columns: play" "$schema_error / 1" \
  "$(outcome "$asp" play badschema.asplog --quiet)"
expect "a schema past its columns: convert" "$schema_error / 1" \
  "$(outcome "$asp" convert badschema.asplog badschema.csv)"

# An index left beside another log (cp over the log) is not taken as its: play from a time
# finds the rows, inspect says the index is stale.
printf 'time,x\n2025-01-01T00:00:00Z,1\n2025-01-01T00:00:01Z,2\n' > early.csv
printf 'time,x\n2025-06-01T00:00:00Z,3\n2025-06-01T00:00:01Z,4\n' > late.csv
"$asp" convert early.csv stale.asplog --stream s 2> /dev/null
"$asp" convert late.csv fresh.asplog --stream s 2> /dev/null
cp fresh.asplog stale.asplog
expect "a copied-over log plays from a time" "4" \
  "$("$asp" play stale.asplog --start 2025-06-01T00:00:01Z --format raw --quiet)"
expect "inspect says the index is stale" "index: stale: it belongs to another log (rebuilt by scanning), 1 chunks" \
  "$("$asp" inspect stale.asplog | grep '^index')"

# A CSV whose lines end in CR alone is refused at its header, not read as one row.
printf 'time,x\r2025-01-01T00:00:00Z,1\r2025-01-01T00:00:01Z,2\r' > mac.csv
expect "a CSV with CR line ends is refused" "asp: mac.csv:1:7: a carriage return (CR) inside a row: lines that end in CR alone are not read (end them with LF or CRLF; a CR inside a field must be quoted) / 1" \
  "$(outcome "$asp" convert mac.csv mac.asplog)"

# A CSV whose times go back: convert stops at the row, naming it, with the rows before it
# written (a log that plays); --sort writes every row in time order, ties in the file's order.
printf 'time,x\n2025-01-01T00:00:02Z,1\n2025-01-01T00:00:03Z,2\n2025-01-01T00:00:01Z,3\n2025-01-01T00:00:02Z,4\n' > back.csv
expect "a CSV going back in time is refused at its row" "asp: back.csv:4: time 2025-01-01T00:00:01.000000000Z is before the previous row's 2025-01-01T00:00:03.000000000Z: a log must be in time order (--sort sorts the rows by time, in memory); the 2 rows before it are in back.asplog / 1" \
  "$(outcome "$asp" convert back.csv back.asplog)"
expect "the rows before it play" "1
2" "$("$asp" play back.asplog --format raw --quiet)"
"$asp" convert back.csv sorted.asplog --sort 2> /dev/null
expect "--sort writes every row in time order" "3
1
4
2" "$("$asp" play sorted.asplog --format raw --quiet)"

# --gaps N keeps the N largest, largest first, earliest first among equals.
printf 'time,x\n2025-01-01T00:00:00Z,1\n2025-01-01T00:00:05Z,2\n2025-01-01T00:00:06Z,3\n2025-01-01T00:00:11Z,4\n2025-01-01T00:00:13Z,5\n' > gaps.csv
expect "--gaps 2" "largest gaps:
  5s after 2025-01-01T00:00:00.000000000Z
  5s after 2025-01-01T00:00:06.000000000Z" "$("$asp" inspect gaps.csv --gaps 2 | sed -n '/^largest/,/^bad/p' | grep -v '^bad')"
expect "--gaps more than there are" "largest gaps:
  5s after 2025-01-01T00:00:00.000000000Z
  5s after 2025-01-01T00:00:06.000000000Z
  2s after 2025-01-01T00:00:11.000000000Z
  1s after 2025-01-01T00:00:05.000000000Z" "$("$asp" inspect gaps.csv --gaps 100000 | sed -n '/^largest/,/^bad/p' | grep -v '^bad')"

# The timeline: one sparkline a stream (each column's count in eighths of the busiest column),
# the gaps of --gap or more marked under it. A CSV file's range is found as it is read: the
# columns double in width from 1 ns until 13 s fit in 20 (2^30 ns, 1.07 s). A log's range is
# known from its index: its columns have a round width that fits the range in one column fewer
# than asked (15 s for 59 s in 6), from a multiple of the width; they hold 11, 1, 2 and 2 events.
block="$(printf '\u2588')"; dash="$(printf '\u2500')"
expect "the timeline of a CSV file" "timeline: 2025-01-01T00:00:00.000000000Z .. 2025-01-01T00:00:13.000000000Z, 1.07s a column
  gaps ${block}   ${block}${block}    ${block} ${block}  peak 0.9313 ev/s
       $(printf "${dash}%.0s" $(seq 11))    2 gaps of 5s or more" \
  "$("$asp" inspect gaps.csv --timeline always --columns 20 | sed -n '/^timeline/,/^largest/p' | grep -v '^largest')"
printf 'time,x\n' > busy.csv
for s in 0 1 2 3 4 5 6 7 8 9; do printf '2025-01-01T00:00:0%sZ,1\n' "$s" >> busy.csv; done
for s in 10 20 30 40 50 59; do printf '2025-01-01T00:00:%sZ,1\n' "$s" >> busy.csv; done
"$asp" convert busy.csv busy.asplog -q 2> /dev/null
expect "the timeline of a log, from its index" "timeline: 2025-01-01T00:00:00.000000000Z .. 2025-01-01T00:00:59.000000000Z, 15s a column
  busy ${block}$(printf '\u2581\u2582\u2582')  peak 0.7333 ev/s" \
  "$("$asp" inspect busy.asplog --timeline always --columns 6 --gap 1m | sed -n '/^timeline/,/^largest/p' | grep -v '^largest')"
expect "no timeline when the output is not a terminal" "" "$("$asp" inspect busy.asplog | grep '^timeline')"

# Untrusted bytes in messages: binary input is named as such, a damaged magic as a damaged log,
# a huge header's names are cut, and a stream name's escape codes are escaped.
printf 'PK\003\004\000\000junk' > archive.zip
expect "binary input is neither a log nor CSV" "asp: archive.zip: not a record log or CSV file (it holds binary bytes: a NUL at offset 4) / 1" \
  "$(outcome "$asp" inspect archive.zip)"
{ printf 'ASPLXG'; tail -c +7 quotes.asplog; } > damaged.asplog
expect "a damaged magic is a damaged log" "asp: damaged.asplog: looks like a damaged record log: it begins with 'ASPLXG ', not 'ASPLOG ' / 1" \
  "$(outcome "$asp" play damaged.asplog --quiet)"
head -c 5000000 /dev/zero | tr '\0' 'x' > wide.csv
printf ',y\n1,2\n' >> wide.csv
expect "a 5 MB header makes a short message" "asp: wide.csv:1: no time column: none of 'time', 'timestamp', 'ts' in the header ('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (5000000 bytes), 'y'); name it with csv_options::time_column / 1" \
  "$(outcome "$asp" inspect wide.csv)"
"$asp" convert early.csv painted.asplog --stream "$(printf '\033[31mred')" 2> /dev/null
expect "a stream name's escape codes are escaped" '  \x1b[31mred: 2 records' \
  "$("$asp" inspect painted.asplog | grep 'red:' | sed 's/, 2025.*//')"

# convert never writes over its input: the same file, a hard link, a symbolic link.
cp quotes.csv same.csv
ln quotes.asplog hard.asplog
ln -s quotes.csv soft.csv
for pair in "same.csv same.csv" "quotes.asplog hard.asplog" "soft.csv quotes.csv" "qset qset/00000001.asplog"; do
  set -- $pair
  input="$1"
  [ "$1" = qset ] && input=qset/00000001.asplog
  expect "convert $1 $2 is refused" "asp: $2 is the input $input: convert would destroy it / 2" \
    "$(outcome "$asp" convert "$1" "$2" --epoch ms --overwrite)"
done
set -- "$asp" "$work"
expect "convert left its inputs whole" "$(cat quotes.csv)" "$(cat same.csv)"
expect "convert left a log whole" "$("$asp" play quotes.asplog --format json --quiet)" \
  "$("$asp" play hard.asplog --format json --quiet)"

# A file size limit (a full disk's stand-in) is a write error naming the records acknowledged,
# and they read back; not a SIGXFSZ.
set +e
out="$( (ulimit -f 16; seq 1 100000 | "$asp" record --from stdin --out big.asplog --fsync 100 --quiet) 2>&1)"
status=$?
set -e
acknowledged="$(echo "$out" | sed -n 's/.*(\([0-9]*\) records acknowledged).*/\1/p')"
event="$(echo "$out" | sed -n "s/^asp: stream 'stdin', event #\([0-9]*\) .*/\1/p")"
at="$(echo "$out" | sed -n 's/.*at virtual time \([^ ]*\): .*/\1/p')"
expect "a file size limit is reported, with the record that met it" \
  "asp: stream 'stdin', event #$event ($at), at virtual time $at: cannot write big.asplog ($acknowledged records acknowledged): File too large / 1" \
  "$out / $status"
read_back="$("$asp" play big.asplog --format raw --quiet 2> /dev/null | wc -l)"
expect "what was acknowledged under the limit reads back" "yes" \
  "$([ "$acknowledged" -gt 0 ] && [ "$read_back" -ge "$acknowledged" ] && echo yes || echo "no: $acknowledged acknowledged, $read_back read")"

# A torn tail: everything before it plays and converts, and both say so on stderr, exit 0.
cp quotes.asplog torn.asplog
truncate -s -3 torn.asplog
torn_offset="$("$asp" inspect torn.asplog | sed -n 's/^torn tail: \([0-9]*\) bytes at offset \([0-9]*\)$/\1 \2/p')"
torn_note="asp: torn.asplog: a torn tail of ${torn_offset% *} bytes at offset ${torn_offset#* } was not read (a writer stopped in the middle of a record); every record before it was"
expect "a torn tail is said by play" "$torn_note / 0" "$(outcome "$asp" play torn.asplog --quiet)"
expect "what comes before a torn tail plays" "$("$asp" play quotes.asplog --format raw --quiet | head -3)" \
  "$("$asp" play torn.asplog --format raw --quiet 2> /dev/null)"
expect "a torn tail is said by convert" "wrote 3 rows to torn.csv
$torn_note / 0" "$(outcome "$asp" convert torn.asplog torn.csv)"

# Times past 2200 and at the end of the time range replay at once, as fast as possible or paced.
printf 'time,x\n2250-06-01T00:00:00Z,1\n2250-06-01T00:00:01Z,2\n2262-04-11T23:47:16Z,3\n' > future.csv
expect "records after 2200 play at once" "1
2
3" "$(timeout 20 "$asp" play future.csv --format raw --quiet)"
printf 'time,x\n2250-06-01T00:00:00Z,1\n2250-06-01T00:00:01Z,2\n' > later.csv
expect "records after 2200 play paced" "1
2" "$(timeout 20 "$asp" play later.csv --rate 1000 --format raw --quiet)"

# A long --fsync interval does not outlive the input: the end syncs at once.
printf 'one\n' | timeout 20 "$asp" record --from stdin --out hour.asplog --fsync 1h --quiet
expect "--fsync 1h ends with its input" "one" "$("$asp" play hour.asplog --format raw --quiet)"

# A bad row: one line on stderr naming file:line:column, exit status 1.
printf 'time,x\n2025-01-01T00:00:00Z,1\n2025-01-01T00:00:01Z,oops\n' > bad.csv
set +e
out="$("$asp" play bad.csv --schema x:i64 --quiet 2>&1 >/dev/null)"
status=$?
set -e
expect "a bad row is named" "asp: stream 'bad.csv', event #1, at virtual time 2025-01-01T00:00:00.000000000Z: bad.csv:3:22: column 'x': expected an integer, found 'oops' / 1" "$out / $status"

set +e
out="$("$asp" play quotes.asplog --rate fast 2>&1)"
status=$?
set -e
expect "a usage error exits 2" "asp: --rate: expected max or a positive factor (1 is real time), found 'fast' / 2" "$out / $status"

# Record stdin until its end, then play it back.
# A payload that is not UTF-8 (binary) is base64 in JSON, so that the line stays JSON and keeps
# every byte; a control byte of text is escaped.
printf 'ok\na\377b\nc\001d\n' | "$asp" record --from stdin --out bytes.asplog --quiet
expect "JSON payloads: text as a string, bytes in base64" '"payload":"ok"}
"payload_base64":"Yf9i"}
"payload":"c\u0001d"}' "$("$asp" play bytes.asplog --format json --quiet | sed 's/.*"stream":"stdin",//')"
printf 'first line\nsecond, with a comma\n' | "$asp" record --from stdin --out lines.asplog --quiet
expect "stdin recorded and played back" 'first line
second, with a comma' "$("$asp" play lines.asplog --format raw --quiet)"

# Record from TCP what `asp play` serves: the server waits for the recorder, sends every row,
# closes; the recorder sees the end and closes its file.
mkfifo served
"$asp" play quotes.asplog --to tcp-server://127.0.0.1:0 --clients 1 --format raw 2> served &
player=$!
exec 4< served  # held open: the player's later lines must have a reader
read -r line <&4
port="${line##*:}"
"$asp" record --from "tcp://127.0.0.1:$port" --out tcp.asplog --stream quotes --quiet
wait "$player"
exec 4<&-
expect "what a server played was recorded, in order" 'ACME,10.1,10.2,100,true
INIT,20,20.5,7,false
ACME,10.15,10.25,300,true
"Big, Co",1e-05,2,1,true' "$("$asp" play tcp.asplog --format raw --quiet)"

# The same through a websocket server and a websocket recorder.
mkfifo served_ws
"$asp" play quotes.asplog --to ws-server://127.0.0.1:0 --clients 1 --format json 2> served_ws &
player=$!
exec 6< served_ws
read -r line <&6
port="${line##*:}"
"$asp" record --from "ws://127.0.0.1:$port/" --out ws.asplog --quiet
wait "$player"
exec 6<&-
expect "what a websocket server played was recorded, in order" \
  "$("$asp" play quotes.asplog --format json --quiet)" \
  "$("$asp" play ws.asplog --format raw --quiet)"

# A server without an address listens on loopback only.
mkfifo served_lo
"$asp" play quotes.asplog --to tcp-server://:0 --clients 1 --format raw 2> served_lo &
player=$!
exec 8< served_lo
read -r line <&8
expect "a server without an address serves loopback" "serving on 127.0.0.1" "${line%:*}"
port="${line##*:}"
"$asp" record --from "tcp://127.0.0.1:$port" --out lo.asplog --quiet
wait "$player"
exec 8<&-

# A client that stops reading holds a --slow-client block play; SIGINT ends it at once, and
# says what the client was sent. The client reads the first line (so the play runs and its
# signal handler is in place), then nothing.
# 30 MB: more than the queue (100,000 records) and the socket buffers hold.
seq -f '%0100g' 1 300000 | "$asp" record --from stdin --out many.asplog --quiet
mkfifo served_stall
"$asp" play many.asplog --to tcp-server://127.0.0.1:0 --clients 1 --slow-client block --format raw 2> served_stall &
player=$!
exec 9< served_stall
read -r line <&9
port="${line##*:}"
exec 7<> "/dev/tcp/127.0.0.1/$port"
read -r first <&7
kill -INT "$player"
set +e
timeout 20 tail --pid="$player" -f /dev/null
stopped=$?
wait "$player"
status=$?
set -e
report="$(cat <&9)"
exec 9<&- 7<&-
expect "a stalled client does not hold a stop" "1 0 0" "$((10#$first)) $stopped $status"
expect "the stop says what the client was sent" "yes" \
  "$(echo "$report" | grep -Eq '^asp: client 127\.0\.0\.1:[0-9]+: stopped: [0-9]+ frames delivered, [1-9][0-9]* not$' && echo yes || echo "no: $report")"
expect "the summary says the stop" "yes" \
  "$(echo "$report" | grep -q 'stopped by a signal$' && echo yes || echo "no: $report")"

# The end of a line input, the same for stdin and TCP: a last line without a newline is kept
# and said; a reset after whole lines is said; a stop in the middle of a line says what it left.
expect "stdin: a last line without a newline is kept, and said" "asp: stdin: end of input, after a last line without a newline (1 bytes), kept as a line / 0" \
  "$(printf 'a\nb' | outcome "$asp" record --from stdin --out partial.asplog --quiet)"
expect "stdin: the last line was recorded" "a
b" "$("$asp" play partial.asplog --format raw --quiet)"
# serve BYTES RESET [LOG]: a one-connection TCP server that sends BYTES, then closes (with a
# reset when RESET is 1, once LOG holds as many records as BYTES has lines: a reset that came
# before the client took the connection in would be a failure to connect); prints its port
# first.
serve() {
  /usr/bin/python3 -c '
import socket, struct, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.sendall(sys.argv[1].encode())
if sys.argv[2] == "1":
    for _ in range(2000):
        played = subprocess.run([sys.argv[4], "play", sys.argv[3], "--format", "raw", "--quiet"],
                                capture_output=True, text=True).stdout
        if played.count("\n") == sys.argv[1].count("\n"): break
        time.sleep(0.01)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$1" "$2" "${3:-}" "$asp"
}
coproc SERVER { serve $'a\r\nb\r' 0; }
read -r port <&"${SERVER[0]}"
expect "tcp: a last line without a newline is kept, and said" "asp: tcp://127.0.0.1:$port: closed by the peer, after a last line without a newline (2 bytes), kept as a line / 0" \
  "$(outcome "$asp" record --from "tcp://127.0.0.1:$port" --out tcplast.asplog --quiet)"
wait "${SERVER_PID:-}" 2> /dev/null || true
expect "tcp: the last line was recorded" "a
b" "$("$asp" play tcplast.asplog --format raw --quiet)"
coproc SERVER { serve $'a\nb\n' 1 tcpreset.asplog; }
read -r port <&"${SERVER[0]}"
expect "tcp: a reset after whole lines is said" "asp: tcp://127.0.0.1:$port: reset by the peer (Connection reset by peer) / 0" \
  "$(outcome "$asp" record --from "tcp://127.0.0.1:$port" --out tcpreset.asplog --fsync every --quiet)"
wait "${SERVER_PID:-}" 2> /dev/null || true

# SIGINT stops a recorder cleanly: exit 0, a valid file.
mkfifo input ready
exec 3<> input
"$asp" record --from stdin --out stopped.asplog < input 2> ready &
recorder=$!
exec 5< ready
read -r line <&5
kill -INT "$recorder"
set +e
wait "$recorder"
status=$?
set -e
exec 3>&- 5<&-
expect "SIGINT ends a recording with status 0" "0" "$status"
expect "the stopped recording is a valid, empty log" "total: 0 records, out of order: 0" \
  "$("$asp" inspect stopped.asplog | grep '^total')"

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
