"""The registry of state-affiliated actors, their accounts and state-media / influence-operation domains.

Library API (the CLI `envoywatch registry ...` calls exactly these):

    install_starter(store) -> counts          the curated, cited starter registry bundled with envoywatch
    import_list(store, path, kind=None, state=None) -> counts
                                               a CANIS / schliebs / Twitter-label / domain / DIMA list file
    add_actor(store, actor_id=..., name=..., state=..., category=..., source=..., ...)
    add_account(store, platform=..., handle=..., actor_id=..., source=..., verified_by=None, ...)
    list_accounts(store, state=, category=, platform=, host_country=, verified=) -> pyarrow.Table
    list_domains(store, state=, kind=, contains=) -> pyarrow.Table
    lookup_domain(store_or_rows, host) -> (state, kind, outlet) | None
    export_registry(store, path, fmt='yaml'|'csv') -> counts

See docs/registry.md for the model, the categories and how verification works.
"""

from envoywatch.registry.imports import KINDS as LIST_KINDS
from envoywatch.registry.imports import import_list
from envoywatch.registry.model import CATEGORIES, DOMAIN_KINDS
from envoywatch.registry.query import (DomainIndex, actor_roles, add_account, add_actor, export_registry,
                                       list_accounts, list_domains, lookup_domain)
from envoywatch.registry.starter import install_starter, starter_batch, starter_version

__all__ = [
    "CATEGORIES", "DOMAIN_KINDS", "LIST_KINDS", "DomainIndex", "actor_roles", "add_account", "add_actor",
    "export_registry", "import_list", "install_starter", "list_accounts", "list_domains", "lookup_domain",
    "starter_batch", "starter_version",
]
