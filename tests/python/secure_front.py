"""A TLS and SASL front for a plaintext Kafka broker, for Streamglass's tests.

Tansu 0.6.0 (the broker the tests run) serves no TLS, offers no SASL PLAIN and stores no SCRAM user
(docs/ARCHITECTURE.md, "Security"), so no client can log in to it. This front does the broker's
side of both in front of it: TLS with Python's ssl module (OpenSSL, not the rustls the bridge
uses), and SASL as a Kafka broker does it (SaslHandshake v1, then SaslAuthenticate v0-v2 carrying
PLAIN, RFC 4616, or SCRAM-SHA-256/512, RFC 5802/7677, checked against the --user list). Before a
client has logged in, only ApiVersions (passed to the broker) and the SASL requests are answered;
anything else closes the connection, as Kafka does. After it, bytes are relayed both ways
untouched. A failed login is answered with SASL_AUTHENTICATION_FAILED (58), then the connection
closes. The broker must advertise this front's address, so clients come back through it.

The tests run librdkafka (confluent-kafka) through it too: its SCRAM client is the reference the
SCRAM server here is checked against.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import ssl
import struct
import sys

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58
SCRAM_HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
ITERATIONS = 4096


def log(*parts):
    print("secure_front:", *parts, file=sys.stderr, flush=True)


async def read_frame(reader):
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    if size < 8 or size > 100 << 20:
        raise ValueError(f"bad frame size {size}")
    return await reader.readexactly(size)


def write_frame(writer, payload):
    writer.write(struct.pack(">i", len(payload)) + payload)


def uvarint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def put_uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def skip_tagged_fields(data, at):
    count, at = uvarint(data, at)
    for _ in range(count):
        _, at = uvarint(data, at)
        size, at = uvarint(data, at)
        at += size
    return at


class Request:
    """A request's header, and where its body starts."""

    def __init__(self, frame):
        self.frame = frame
        self.api_key, self.version, self.correlation = struct.unpack(">hhi", frame[:8])
        client_len = struct.unpack(">h", frame[8:10])[0]
        self.body = 10 + max(client_len, 0)
        if self.api_key == SASL_AUTHENTICATE and self.version >= 2:
            self.body = skip_tagged_fields(frame, self.body)


def handshake_response(request, error, mechanisms):
    body = struct.pack(">h", error) + struct.pack(">i", len(mechanisms))
    for m in mechanisms:
        body += struct.pack(">h", len(m)) + m.encode()
    return struct.pack(">i", request.correlation) + body


def authenticate_response(request, error, message, auth_bytes):
    if request.version >= 2:
        header = struct.pack(">i", request.correlation) + put_uvarint(0)
        text = b"\x00" if message is None else put_uvarint(len(message.encode()) + 1) + message.encode()
        body = struct.pack(">h", error) + text + put_uvarint(len(auth_bytes) + 1) + auth_bytes
        body += struct.pack(">q", 0) + put_uvarint(0)
        return header + body
    text = struct.pack(">h", -1) if message is None else struct.pack(">h", len(message.encode())) + message.encode()
    body = struct.pack(">h", error) + text + struct.pack(">i", len(auth_bytes)) + auth_bytes
    if request.version >= 1:
        body += struct.pack(">q", 0)
    return struct.pack(">i", request.correlation) + body


def authenticate_payload(request):
    data, at = request.frame, request.body
    if request.version >= 2:
        size, at = uvarint(data, at)
        return data[at : at + size - 1]
    size = struct.unpack(">i", data[at : at + 4])[0]
    return data[at + 4 : at + 4 + size]


def scram_attributes(text):
    out = {}
    for part in text.split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key] = value
    return out


class Scram:
    """The server side of one SCRAM exchange."""

    def __init__(self, mechanism, users):
        self.hash = SCRAM_HASHES[mechanism]
        self.users = users
        self.step = 0

    def hmac(self, key, message):
        return hmac.new(key, message, self.hash).digest()

    def first(self, message):
        parts = message.split(",", 2)
        if len(parts) != 3 or parts[0] not in ("n", "y"):
            raise PermissionError("malformed client-first message")
        self.gs2 = parts[0] + "," + parts[1] + ","
        self.client_first_bare = parts[2]
        attrs = scram_attributes(self.client_first_bare)
        self.user = attrs.get("n", "").replace("=2C", ",").replace("=3D", "=")
        password = self.users.get(self.user)
        if password is None:
            raise PermissionError(f"unknown user {self.user!r}")
        salt = os.urandom(16)
        salted = hashlib.pbkdf2_hmac(self.hash().name, password.encode(), salt, ITERATIONS)
        self.stored_key = self.hash(self.hmac(salted, b"Client Key")).digest()
        self.server_key = self.hmac(salted, b"Server Key")
        self.nonce = attrs.get("r", "") + base64.b64encode(os.urandom(18)).decode()
        self.server_first = f"r={self.nonce},s={base64.b64encode(salt).decode()},i={ITERATIONS}"
        return self.server_first

    def final(self, message):
        without_proof, _, proof = message.rpartition(",p=")
        attrs = scram_attributes(without_proof)
        if attrs.get("r") != self.nonce:
            raise PermissionError("the nonce does not match")
        if attrs.get("c") != base64.b64encode(self.gs2.encode()).decode():
            raise PermissionError("the channel binding does not match")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = self.hmac(self.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if not hmac.compare_digest(self.hash(client_key).digest(), self.stored_key):
            raise PermissionError(f"wrong password for user {self.user!r}")
        return "v=" + base64.b64encode(self.hmac(self.server_key, auth_message)).decode()

    def answer(self, payload):
        self.step += 1
        text = payload.decode("utf-8", "replace")
        if self.step == 1:
            return self.first(text), False
        return self.final(text), True


def plain(payload, users):
    parts = payload.split(b"\x00")
    if len(parts) != 3:
        raise PermissionError("malformed PLAIN message")
    user, password = parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")
    if users.get(user) != password:
        raise PermissionError(f"wrong user name or password for {user!r}")


async def pipe(reader, writer):
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def serve_client(reader, writer, args, users):
    peer = writer.get_extra_info("peername")
    try:
        up_reader, up_writer = await asyncio.open_connection(args.upstream_host, args.upstream_port)
    except OSError as e:
        log(peer, "cannot reach the broker:", e)
        writer.close()
        return
    try:
        authenticated = not users
        mechanism = None
        exchange = None
        while not authenticated:
            frame = await read_frame(reader)
            request = Request(frame)
            if request.api_key == API_VERSIONS:
                write_frame(up_writer, frame)
                await up_writer.drain()
                write_frame(writer, await read_frame(up_reader))
            elif request.api_key == SASL_HANDSHAKE and request.version >= 1:
                at = request.body
                size = struct.unpack(">h", frame[at : at + 2])[0]
                mechanism = frame[at + 2 : at + 2 + size].decode()
                if mechanism not in args.mechanisms:
                    log(peer, "refused mechanism", mechanism)
                    write_frame(writer, handshake_response(request, UNSUPPORTED_SASL_MECHANISM, args.mechanisms))
                    await writer.drain()
                    return
                exchange = Scram(mechanism, users) if mechanism in SCRAM_HASHES else None
                write_frame(writer, handshake_response(request, 0, args.mechanisms))
            elif request.api_key == SASL_AUTHENTICATE and mechanism is not None:
                payload = authenticate_payload(request)
                try:
                    if exchange is None:
                        plain(payload, users)
                        answer, done = b"", True
                    else:
                        text, done = exchange.answer(payload)
                        answer = text.encode()
                except PermissionError as e:
                    log(peer, mechanism, "login refused:", e)
                    message = f"Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}"
                    write_frame(writer, authenticate_response(request, SASL_AUTHENTICATION_FAILED, message, b""))
                    await writer.drain()
                    return
                write_frame(writer, authenticate_response(request, 0, None, answer))
                authenticated = done
                if done:
                    log(peer, mechanism, "logged in")
            else:
                log(peer, f"request {request.api_key} v{request.version} before logging in: closing")
                return
            await writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, ssl.SSLError) as e:
        log(peer, "closed:", repr(e))
    finally:
        writer.close()
        up_writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the plaintext broker")
    parser.add_argument("--cert", help="PEM certificate chain: serve TLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--user", action="append", default=[], help="NAME:PASSWORD: require SASL")
    parser.add_argument("--mechanisms", default="PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
    args = parser.parse_args()
    args.upstream_host, port = args.upstream.rsplit(":", 1)
    args.upstream_port = int(port)
    args.mechanisms = [m for m in args.mechanisms.split(",") if m]
    users = dict(u.split(":", 1) for u in args.user)
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    server = await asyncio.start_server(
        lambda r, w: serve_client(r, w, args, users), "127.0.0.1", args.listen_port, ssl=context
    )
    log(f"listening on 127.0.0.1:{args.listen_port}", "tls" if context else "plaintext", "sasl" if users else "no sasl")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
