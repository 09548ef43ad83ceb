"""Report section 11. Provenance: hashes, config, package versions, seed, git commit, run time."""

from __future__ import annotations

import yaml

from ..blocks import Context, DefList, Heading, Para, Pre, Section, Table
from ..context import RESULT_FILES
from ..formatting import DASH
from ..provenance import _plain, config_hash, package_versions, sha256_file


def section_provenance(ctx: Context) -> Section:
    """Input hashes, table hashes, config and its hash, package versions, seed, git commit, run time."""
    T, v = ctx.T, ctx.res["validation"]
    inputs = [[T("responses_file"), str(v.get("input", {}).get("file", DASH)), v.get("input", {}).get("sha256", DASH)]]
    if v.get("children"):
        inputs.append([T("children_file"), str(v["children"].get("file", DASH)), v["children"].get("sha256", DASH)])
    tables = [[RESULT_FILES[k], sha256_file(p)] for k, p in ctx.paths.items()]
    plain = _plain(ctx.config)
    blocks = [
        DefList([(T("run_time"), ctx.run_time), (T("seed"), str(ctx.seed)), (T("git_commit"), ctx.git_commit),
                 (T("config_hash"), config_hash(plain))]),
        Table([T("input"), T("file"), "SHA-256"], inputs, caption=T("inputs_caption")),
        Table([T("file"), "SHA-256"], tables, caption=T("tables_caption")),
        Table([T("package"), T("version")], [list(r) for r in package_versions()], caption=T("packages_caption")),
        Heading(T("config_heading")),
        Para(T("config_intro")),
        Pre(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)),
    ]
    return Section("provenance", T("sec_provenance"), blocks)
