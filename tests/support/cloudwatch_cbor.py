#!/usr/bin/env python3
"""CloudWatch's Smithy RPC v2 CBOR protocol in front of moto, for toban's tests.

aws-sdk-cloudwatch (Rust) speaks only RPC v2 CBOR:
    POST /service/GraniteServiceVersion20100801/operation/<Op>   (body: CBOR map)
moto serves CloudWatch over its JSON protocol (X-Amz-Target: GraniteServiceVersion20100801.<Op>).
This adapter decodes the SDK's CBOR, forwards the request to moto as JSON, and encodes moto's
answer back as CBOR, with the fields botocore's CloudWatch model declares as timestamps sent
as CBOR tag 1 (epoch seconds) as the SDK expects. So the real SDK parses moto's real state.

Where moto falls short, the adapter answers itself, from the AWS API reference:
- PutCompositeAlarm (moto answers 500): composite alarms are kept here; DescribeAlarms lists
  them in `CompositeAlarms`, SetAlarmState and ListTagsForResource work on them.
- DescribeAlarmHistory (moto answers 500): every alarm created or changed through this adapter
  (PutMetricAlarm, PutCompositeAlarm, SetAlarmState) is recorded as a history item with
  `HistoryData` JSON of the documented shape ({"version","oldState","newState"}).
- DescribeAlarms paging: moto returns every alarm at once; the reference pages by
  `MaxRecords` (1-100, default 50) with an opaque `NextToken`, so the adapter pages moto's
  full answer (metric alarms, then composite ones), honouring `AlarmTypes` (metric alarms
  only when absent), `StateValue`, `AlarmNamePrefix` and `AlarmNames`.

Usage: cloudwatch_cbor.py PORT MOTO_URL      (prints "ready" when listening)
"""

import datetime
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2

TARGET = "GraniteServiceVersion20100801"
PREFIX = "/service/%s/operation/" % TARGET
MODEL = botocore.session.get_session().get_service_model("cloudwatch")
ACCOUNT = "123456789012"

lock = threading.Lock()
composites = {}  # name -> alarm document (as DescribeAlarms returns it)
composite_tags = {}  # arn -> [{"Key", "Value"}]
history = []  # AlarmHistoryItem documents, oldest first
states = {}  # name -> last known state, for history's oldState


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def jsonable(v):
    """CBOR-decoded input into JSON: datetimes as epoch seconds, bytes as text."""
    if isinstance(v, datetime.datetime):
        return v.timestamp()
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, bytes):
        return v.decode()
    return v


def to_time(v):
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, (int, float)):
        return datetime.datetime.fromtimestamp(v, datetime.timezone.utc)
    if isinstance(v, str):
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v


def shape_times(shape, v):
    """Turns the timestamp fields of `v` (per the model's `shape`) into datetimes."""
    if v is None or shape is None:
        return v
    t = shape.type_name
    if t == "timestamp":
        return to_time(v)
    if t == "structure" and isinstance(v, dict):
        return {k: shape_times(shape.members.get(k), x) for k, x in v.items()}
    if t == "list" and isinstance(v, list):
        return [shape_times(shape.member, x) for x in v]
    if t == "map" and isinstance(v, dict):
        return {k: shape_times(shape.value, x) for k, x in v.items()}
    return v


def moto(url, op, body, auth):
    req = urllib.request.Request(
        url.rstrip("/") + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "%s.%s" % (TARGET, op),
            "Authorization": auth,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, json.loads(text) if text.strip() else {}
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = {"__type": "InternalFailure", "message": text.decode(errors="replace")[:300]}
        return e.code, doc


def record(name, kind, old, new, reason, summary):
    item = {
        "AlarmName": name,
        "AlarmType": kind,
        "Timestamp": now(),
        "HistoryItemType": "StateUpdate" if old is not None else "ConfigurationUpdate",
        "HistorySummary": summary,
        "HistoryData": json.dumps(
            {
                "version": "1.0",
                "oldState": {"stateValue": old} if old else None,
                "newState": {"stateValue": new, "stateReason": reason},
            }
        ),
    }
    history.append(item)


def describe_alarms(url, body, auth):
    status, doc = moto(url, "DescribeAlarms", {k: v for k, v in body.items() if k in ("AlarmNamePrefix", "AlarmNames", "StateValue", "ActionPrefix")}, auth)
    if status != 200:
        return status, doc
    types = body.get("AlarmTypes") or ["MetricAlarm"]
    metric = doc.get("MetricAlarms", []) if "MetricAlarm" in types else []
    comp = []
    if "CompositeAlarm" in types:
        with lock:
            comp = list(composites.values())
        if body.get("StateValue"):
            comp = [c for c in comp if c["StateValue"] == body["StateValue"]]
        if body.get("AlarmNamePrefix"):
            comp = [c for c in comp if c["AlarmName"].startswith(body["AlarmNamePrefix"])]
        if body.get("AlarmNames"):
            comp = [c for c in comp if c["AlarmName"] in body["AlarmNames"]]
    rows = [("m", a) for a in metric] + [("c", a) for a in comp]
    size = max(1, min(int(body.get("MaxRecords") or 50), 100))
    start = int(body.get("NextToken") or 0)
    page = rows[start : start + size]
    out = {
        "MetricAlarms": [a for k, a in page if k == "m"],
        "CompositeAlarms": [a for k, a in page if k == "c"],
    }
    if start + size < len(rows):
        out["NextToken"] = str(start + size)
    return 200, out


def handle(url, op, body, auth):
    if op == "DescribeAlarms":
        return describe_alarms(url, body, auth)
    if op == "PutCompositeAlarm":
        name = body["AlarmName"]
        arn = "arn:aws:cloudwatch:us-east-1:%s:alarm:%s" % (ACCOUNT, name)
        t = now()
        with lock:
            composites[name] = {
                "AlarmName": name,
                "AlarmArn": arn,
                "AlarmDescription": body.get("AlarmDescription", ""),
                "AlarmRule": body["AlarmRule"],
                "ActionsEnabled": body.get("ActionsEnabled", True),
                "AlarmActions": body.get("AlarmActions", []),
                "OKActions": body.get("OKActions", []),
                "InsufficientDataActions": body.get("InsufficientDataActions", []),
                "StateValue": "INSUFFICIENT_DATA",
                "StateReason": "Unchecked: Initial alarm creation",
                "StateUpdatedTimestamp": t.timestamp(),
                "StateTransitionedTimestamp": t.timestamp(),
                "AlarmConfigurationUpdatedTimestamp": t.timestamp(),
            }
            composite_tags[arn] = body.get("Tags", [])
            states[name] = "INSUFFICIENT_DATA"
            record(name, "CompositeAlarm", None, "INSUFFICIENT_DATA", "", 'Alarm "%s" created' % name)
        return 200, {}
    if op == "SetAlarmState":
        name = body["AlarmName"]
        new = body["StateValue"]
        reason = body.get("StateReason", "")
        with lock:
            if name in composites:
                c = composites[name]
                old = c["StateValue"]
                c["StateValue"] = new
                c["StateReason"] = reason
                c["StateUpdatedTimestamp"] = now().timestamp()
                record(name, "CompositeAlarm", old, new, reason, "Alarm updated from %s to %s" % (old, new))
                return 200, {}
        status, doc = moto(url, op, body, auth)
        if status == 200:
            with lock:
                old = states.get(name, "INSUFFICIENT_DATA")
                states[name] = new
                record(name, "MetricAlarm", old, new, reason, "Alarm updated from %s to %s" % (old, new))
        return status, doc
    if op == "PutMetricAlarm":
        status, doc = moto(url, op, body, auth)
        if status == 200:
            with lock:
                if body["AlarmName"] not in states:
                    states[body["AlarmName"]] = "INSUFFICIENT_DATA"
                    record(body["AlarmName"], "MetricAlarm", None, "INSUFFICIENT_DATA", "", 'Alarm "%s" created' % body["AlarmName"])
        return status, doc
    if op == "DescribeAlarmHistory":
        with lock:
            items = list(history)
        if body.get("AlarmName"):
            items = [i for i in items if i["AlarmName"] == body["AlarmName"]]
        if body.get("HistoryItemType"):
            items = [i for i in items if i["HistoryItemType"] == body["HistoryItemType"]]
        if body.get("ScanBy", "TimestampDescending") == "TimestampDescending":
            items.reverse()
        items = items[: max(1, min(int(body.get("MaxRecords") or 100), 100))]
        return 200, {"AlarmHistoryItems": items}
    if op == "ListTagsForResource" and body.get("ResourceARN") in composite_tags:
        return 200, {"Tags": composite_tags[body["ResourceARN"]]}
    return moto(url, op, body, auth)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, doc, op):
        if status == 200 and op:
            try:
                doc = shape_times(MODEL.operation_model(op).output_shape, doc)
            except Exception:  # an operation botocore does not know: leave as is
                pass
        elif status != 200:
            kind = str(doc.get("__type") or doc.get("Code") or "InternalFailure").split("#")[-1]
            doc = {"__type": "com.amazonaws.cloudwatch#" + kind, "message": doc.get("message") or doc.get("Message") or ""}
        body = cbor2.dumps(doc, datetime_as_timestamp=True, timezone=datetime.timezone.utc)
        self.send_response(status)
        self.send_header("Content-Type", "application/cbor")
        self.send_header("smithy-protocol", "rpc-v2-cbor")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.startswith(PREFIX):
            return self.answer(404, {"__type": "UnknownOperation", "message": self.path}, None)
        op = self.path[len(PREFIX) :]
        body = jsonable(cbor2.loads(raw)) if raw else {}
        try:
            status, doc = handle(self.server.moto_url, op, body, self.headers.get("Authorization", ""))
        except Exception as e:  # report, never hang the SDK
            status, doc = 500, {"__type": "InternalFailure", "message": "adapter: %r" % (e,)}
        self.answer(status, doc, op)


def main():
    port, url = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.moto_url = url
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
