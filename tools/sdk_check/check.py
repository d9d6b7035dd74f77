"""Run Microsoft's Python SDKs (azure-identity + msgraph-sdk) unmodified against `entra-airsync sim graph`.

Usage: python check.py '<the JSON line the simulator printed>'   (see README.md next to this file)
Only configuration differs from a real tenant: the authority host, the Graph base URL and the trusted CA.
"""

import asyncio
import json
import os
import ssl
import sys
import time
import urllib.request

import httpx
from azure.identity import ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.generated.models.user_collection_response import UserCollectionResponse
from msgraph_core import GraphClientFactory
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.tasks.page_iterator import PageIterator

RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def sim_post(base, path, body, ctx):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.loads(r.read())


async def main(info):
    ca = info["ca_pem"]
    os.environ["REQUESTS_CA_BUNDLE"] = ca  # azure-identity's transport (requests) trusts the simulator's CA
    os.environ["SSL_CERT_FILE"] = ca
    ssl_ctx = ssl.create_default_context(cafile=ca)
    authority, graph = info["authority_host"], info["graph_url"]
    tenant, client_id, secret = info["tenant_id"], info["client_id"], info["client_secret"]

    # 1. azure-identity: client credentials through MSAL (OpenID discovery on the authority host).
    # Instance discovery always asks login.microsoftonline.com about a non-public authority, so it is
    # turned off with the documented private-cloud option.
    cred = ClientSecretCredential(tenant, client_id, secret, authority=authority, disable_instance_discovery=True)
    try:
        tok = cred.get_token("https://graph.microsoft.com/.default")
        report("azure-identity get_token", bool(tok.token) and tok.expires_on > time.time(),
               f"expires_on in {tok.expires_on - int(time.time())}s")
    except Exception as e:  # noqa: BLE001 - a check script reports everything
        report("azure-identity get_token", False, repr(e))
        return
    bad = ClientSecretCredential(tenant, client_id, "wrong", authority=authority, disable_instance_discovery=True)
    try:
        bad.get_token("https://graph.microsoft.com/.default")
        report("azure-identity wrong secret refused", False, "token issued")
    except Exception as e:  # noqa: BLE001
        report("azure-identity wrong secret refused", "AADSTS7000215" in str(e), type(e).__name__)

    # 2. msgraph-sdk with the simulator as base URL.
    host = httpx.URL(graph).host
    auth = AzureIdentityAuthenticationProvider(cred, scopes=["https://graph.microsoft.com/.default"],
                                               allowed_hosts=[host])
    hooks = {}
    if os.environ.get("SDK_CHECK_DEBUG"):  # print every Graph exchange (bodies truncated)
        async def show_req(r):
            print("  >>", r.method, r.url, dict(r.headers), (await r.aread())[:400])

        async def show_resp(r):
            print("  <<", r.status_code, dict(r.headers), (await r.aread())[:400])
        hooks = {"request": [show_req], "response": [show_resp]}
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl_ctx, event_hooks=hooks))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = graph.rstrip("/") + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    # Users with paging (PageIterator follows @odata.nextLink).
    try:
        cfg = UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(
            query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                top=37, select=["id", "displayName", "userPrincipalName"]))
        first = await client.users.get(request_configuration=cfg)
        seen, pages = [], 0

        def collect(u):
            seen.append(u.id)
            return True

        it = PageIterator(first, adapter)
        await it.iterate(collect)
        pages = len(seen) // 37 + 1
        truth = json.loads(urllib.request.urlopen(graph + "/_sim/truth", context=ssl_ctx).read())
        want = len(truth.get("users", []))
        report("users list + PageIterator", len(set(seen)) == want and want > 0,
               f"{len(seen)} users over ~{pages} pages, truth {want}")
    except Exception as e:  # noqa: BLE001
        report("users list + PageIterator", False, repr(e))

    # Users delta round to the end: follow nextLink until deltaLink, then one more round on the deltaLink.
    try:
        resp = await client.users.delta.get()
        n, pages = 0, 0
        while True:
            pages += 1
            n += len(resp.value or [])
            if resp.odata_next_link:
                resp = await client.users.delta.with_url(resp.odata_next_link).get()
                continue
            break
        delta_link = resp.odata_delta_link
        report("users delta initial round", bool(delta_link) and n > 0, f"{n} users in {pages} pages")
        sim_post(graph, "/_sim/mutate", {"update": 3, "seed": 7}, ssl_ctx)
        resp = await client.users.delta.with_url(delta_link).get()
        changed = len(resp.value or [])
        while resp.odata_next_link:
            resp = await client.users.delta.with_url(resp.odata_next_link).get()
            changed += len(resp.value or [])
        report("users delta change round", bool(resp.odata_delta_link), f"{changed} changes")
    except Exception as e:  # noqa: BLE001
        report("users delta", False, repr(e))

    # $batch through msgraph-core's helper.
    try:
        batch = BatchRequestContent()
        ids = seen[:2] if seen else []
        items = [BatchRequestItem(request_information=client.users.by_user_id(i).to_get_request_information())
                 for i in ids]
        items.append(BatchRequestItem(request_information=client.organization.to_get_request_information()))
        for it_ in items:
            # msgraph-core keeps the absolute URL once the adapter has stamped its base URL into the shared
            # path parameters (msgraph-sdk-python #1015, msgraph-sdk-python-core #1116); Graph answers 400
            # to absolute item URLs, so strip the base as that workaround does.
            it_.url = it_.url.removeprefix(adapter.base_url)
            batch.add_request(None, it_)
        out = await client.batch.post(batch_request_content=batch)
        statuses = {k: v.status for k, v in (out.responses or {}).items()}
        report("$batch via BatchRequestContent", all(s == 200 for s in statuses.values()) and len(statuses) == 3,
               f"statuses {sorted(statuses.values())}")
        # Typed bodies (get_response_by_id(id, User)) are not checked: msgraph-core reads a batch item's
        # body with get_bytes_value, which only takes base64 strings, while Graph sends JSON bodies as
        # JSON objects (msgraph-sdk-python-core issues #807, #835). Print what the SDK holds instead.
        raw = out.get_response_by_id(items[0].id)
        print(f"     batch item body as held by msgraph-core: {raw.body!r:.80}, content-type {raw.content_type!r:.40}")
    except Exception as e:  # noqa: BLE001
        report("$batch via BatchRequestContent", False, repr(e))

    # 429 + Retry-After: the SDK's RetryHandler must wait and retry transparently.
    try:
        sim_post(graph, "/_sim/faults", {"throttle_next": 2, "throttle_retry_after": "1"}, ssl_ctx)
        t0 = time.monotonic()
        org = await client.organization.get()
        waited = time.monotonic() - t0
        report("429 Retry-After honoured by RetryHandler", org is not None and waited >= 1.9,
               f"succeeded after {waited:.1f}s")
    except Exception as e:  # noqa: BLE001
        report("429 Retry-After honoured by RetryHandler", False, repr(e))
    # And a 429 seen directly (retries off), read as an ODataError with the Retry-After header.
    try:
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError
        sim_post(graph, "/_sim/faults", {"throttle_next": 1, "throttle_retry_after": "7"}, ssl_ctx)
        from msgraph.generated.organization.organization_request_builder import OrganizationRequestBuilder
        cfg = OrganizationRequestBuilder.OrganizationRequestBuilderGetRequestConfiguration(
            options=[RetryHandlerOption(max_retries=0, should_retry=False)])
        try:
            await client.organization.get(request_configuration=cfg)
            report("429 surfaced as ODataError", False, "no error")
        except ODataError as e:
            ra = (e.response_headers or {}).get("retry-after") if hasattr(e, "response_headers") else None
            report("429 surfaced as ODataError", e.response_status_code == 429 and e.error is not None
                   and e.error.code == "TooManyRequests",
                   f"status {e.response_status_code} code {e.error.code if e.error else None} retry-after {ra}")
    except Exception as e:  # noqa: BLE001
        report("429 surfaced as ODataError", False, repr(e))
    finally:
        sim_post(graph, "/_sim/faults", {"throttle_next": 0}, ssl_ctx)

    # A Graph error body parsed into ODataError (404 on an unknown user).
    try:
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError
        try:
            await client.users.by_user_id("00000000-0000-0000-0000-000000000000").get()
            report("404 parsed as ODataError", False, "no error")
        except ODataError as e:
            inner = e.error.inner_error if e.error else None
            report("404 parsed as ODataError", e.response_status_code == 404 and inner is not None
                   and bool(inner.request_id), f"code {e.error.code}, request-id {inner.request_id if inner else None}")
    except Exception as e:  # noqa: BLE001
        report("404 parsed as ODataError", False, repr(e))

    failed = [n for n, ok in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} passed" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    line = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.readline()
    sys.exit(asyncio.run(main(json.loads(line))))
