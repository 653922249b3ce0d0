"""A tiny authoritative DNS server on 127.0.0.1 (UDP) answering TXT, A and AAAA from dicts the
test owns."""

from __future__ import annotations

import ipaddress
import socket
import threading

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class FakeDns:
    def __init__(self) -> None:
        # name (no final dot, lowercase) → TXT strings; a name mapped to [] exists without TXT.
        self.txt: dict[str, list[str]] = {}
        # name → IPv4 and IPv6 addresses (A and AAAA answers); such a name exists.
        self.addresses: dict[str, list[str]] = {}
        # Names it never answers, so that the resolver times out.
        self.silent: set[str] = set()
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def reset(self) -> None:
        self.txt.clear()
        self.addresses.clear()
        self.silent.clear()
        self.queries.clear()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                continue
            response = self._answer(query)
            if response is not None:
                self._socket.sendto(response.to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.addresses:
            self._add_addresses(response, question)
        elif name not in self.txt:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and self.txt[name]:
            quoted = [f'"{value}"' for value in self.txt[name]]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, "TXT", quoted)
            )
        return response

    def _add_addresses(self, response: dns.message.Message, question: dns.rrset.RRset) -> None:
        name = question.name.to_text(omit_final_dot=True).lower()
        wanted = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(question.rdtype)
        values = [
            a for a in self.addresses[name] if wanted and ipaddress.ip_address(a).version == wanted
        ]
        if values:
            rdtype = "A" if wanted == 4 else "AAAA"
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, rdtype, values)
            )
