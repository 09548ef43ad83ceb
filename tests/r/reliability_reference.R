# Reference values for src/attachment_pipeline/reliability.py, computed with R psych.
#
# Run from the repository top:
#   Rscript tests/r/reliability_reference.R
# Writes tests/reference/reliability_<dataset>.json for three data sets:
#   demo       data/raw/demo/responses.csv      ECR-R (1-7) anxiety/avoidance; minmax ticks
#                                               minimiser/maximiser (KR-20)
#   ecr_5point data/raw/ecr_5point/responses.csv ECR 1998 (1-5) anxiety/avoidance
#   synthetic  tests/data/reliability_synthetic.csv  5 Likert items plus a constant
#              item (s_const) to pin psych's handling of zero-variance items. Made once by
#              numpy default_rng(20261126): 80 rows, s_j = clip(round(3 + .9 f + e_j), 1, 5),
#              s_const = 3, each cell blank with probability .04.
# Each subscale is analysed listwise (psych::alpha(na.omit(x))) and pairwise
# (psych::alpha(x, use = "pairwise") on the rows with at least one answer), overall and,
# listwise, per level of the gender column. The Python tests (tests/test_reliability.py)
# read the same CSVs and apply the same recoding; the test suite does not need R.
#
# Needs: psych, GPArotation, jsonlite.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
options(mc.cores = 1)  # psych::alpha's bootstrap uses mclapply: keep it serial and seeded
options(warn = 1)

recode_demo <- function(d) {
  items <- d[, c(paste0("ecr_", 1:36), paste0("mm_", 1:22))]
  items[items == -1 | items == 99] <- NA  # missing codes; blanks are already NA
  rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
  for (j in rev) items[[paste0("ecr_", j)]] <- 8 - items[[paste0("ecr_", j)]]
  list(
    items = items,
    groups = data.frame(gender = d$gender),
    subscales = list(
      anxiety = paste0("ecr_", 1:18),
      avoidance = paste0("ecr_", 19:36),
      minimiser = paste0("mm_", 1:11),
      maximiser = paste0("mm_", 12:22)
    )
  )
}

recode_ecr5 <- function(d) {
  items <- d[, paste0("Q", 1:36)]
  items[items == 0] <- NA
  rev <- c(3, 15, 19, 22, 25, 27, 29, 31, 33, 35)
  for (j in rev) items[[paste0("Q", j)]] <- 6 - items[[paste0("Q", j)]]
  list(
    items = items,
    groups = data.frame(gender = d$gender),
    subscales = list(
      anxiety = paste0("Q", seq(2, 36, 2)),
      avoidance = paste0("Q", seq(1, 35, 2))
    )
  )
}

recode_synthetic <- function(d) {
  list(items = d, groups = data.frame(row.names = seq_len(nrow(d))),
       subscales = list(with_constant = c(paste0("s_", 1:5), "s_const")))
}

kr20 <- function(x) {
  x <- na.omit(x)
  p <- colMeans(x)
  pq <- p * (1 - p)
  keep <- pq > 0
  k <- sum(keep)
  tot <- rowSums(x[, keep, drop = FALSE])
  v <- mean((tot - mean(tot))^2)  # same denominator (n) as p * q
  k / (k - 1) * (1 - sum(pq[keep]) / v)
}

num <- function(v) unname(as.numeric(v))

analyse <- function(x, use, n_iter = 1000, seed = 1) {
  a <- suppressWarnings(psych::alpha(x, use = use, warnings = FALSE))
  set.seed(seed)
  ab <- suppressWarnings(psych::alpha(x, use = use, warnings = FALSE, n.iter = n_iter))
  boot_alpha <- ab$boot[, "raw_alpha"]
  tot <- a$total
  used <- rownames(a$item.stats)
  out <- list(
    n = nrow(x), k = a$nvar,
    alpha = num(tot$raw_alpha), alpha_std = num(tot$std.alpha),
    lambda6 = num(tot[["G6(smc)"]]), average_r = num(tot$average_r),
    mean = num(tot$mean), sd = num(tot$sd),
    alpha_feldt_low = num(a$feldt$lower.ci), alpha_feldt_high = num(a$feldt$upper.ci),
    boot = list(n_iter = n_iter, seed = seed,
                quantiles_025_500_975 = num(quantile(boot_alpha, c(.025, .5, .975))),
                sd = sd(boot_alpha)),
    items = list(
      item = used, n = num(a$item.stats$n), raw_r = num(a$item.stats$raw.r),
      std_r = num(a$item.stats$std.r), r_cor = num(a$item.stats$r.cor),
      r_drop = num(a$item.stats$r.drop), mean = num(a$item.stats$mean),
      sd = num(a$item.stats$sd), alpha_if_deleted = num(a$alpha.drop$raw_alpha)
    )
  )
  xs <- x[, used, drop = FALSE]
  if (length(used) >= 3) {
    o1 <- suppressWarnings(suppressMessages(
      psych::omega(xs, nfactors = 1, fm = "minres", plot = FALSE)))
    f1 <- suppressWarnings(suppressMessages(psych::fa(xs, nfactors = 1, fm = "minres")))
    out$omega_total <- num(o1$omega.tot)
    out$loadings_1f <- num(f1$loadings[, 1])
  }
  if (length(used) >= 6) {
    o3 <- suppressWarnings(suppressMessages(
      psych::omega(xs, nfactors = 3, fm = "minres", rotate = "oblimin", plot = FALSE)))
    out$omega_h <- num(o3$omega_h)
    out$omega_total_sl <- num(o3$omega.tot)
    out$general_loadings_sl <- num(o3$schmid$sl[, "g"])
    out$h2_3f <- num(o3$schmid$sl[, "h2"])
  }
  out
}

run_dataset <- function(name, path, recode) {
  raw <- read.csv(path, na.strings = "", stringsAsFactors = FALSE)
  rec <- recode(raw)
  results <- list()
  for (sub in names(rec$subscales)) {
    x <- rec$items[, rec$subscales[[sub]]]
    listwise <- na.omit(x)
    pairwise <- x[rowSums(!is.na(x)) > 0, ]
    entry <- list(items = rec$subscales[[sub]],
                  listwise = analyse(listwise, "pairwise"),
                  pairwise = analyse(pairwise, "pairwise"))
    if (all(unlist(x) %in% c(0, 1, NA))) {
      entry$listwise$kr20 <- kr20(x)
    }
    groups <- list()
    for (gcol in names(rec$groups)) {
      for (lev in sort(unique(na.omit(rec$groups[[gcol]])))) {
        xg <- na.omit(x[!is.na(rec$groups[[gcol]]) & rec$groups[[gcol]] == lev, ])
        if (nrow(xg) >= 10) {
          a <- suppressWarnings(psych::alpha(xg, warnings = FALSE))
          groups[[length(groups) + 1]] <- list(
            group_column = gcol, group = as.character(lev), n = nrow(xg),
            alpha = num(a$total$raw_alpha), alpha_std = num(a$total$std.alpha),
            lambda6 = num(a$total[["G6(smc)"]]), average_r = num(a$total$average_r),
            mean = num(a$total$mean), sd = num(a$total$sd),
            r_drop = num(a$item.stats$r.drop))
        } else {
          groups[[length(groups) + 1]] <- list(group_column = gcol, group = as.character(lev),
                                               n = nrow(xg))
        }
      }
    }
    entry$groups <- groups
    results[[sub]] <- entry
  }
  out <- list(
    dataset = name,
    data_file = path,
    data_md5 = unname(tools::md5sum(path)),
    generated_by = "tests/r/reliability_reference.R",
    r_version = R.version.string,
    packages = list(psych = as.character(packageVersion("psych")),
                    GPArotation = as.character(packageVersion("GPArotation")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    calls = list(
      listwise = "psych::alpha(na.omit(x)); psych::omega(na.omit(x), nfactors = 1 | 3, fm = 'minres', rotate = 'oblimin')",
      pairwise = "psych::alpha(x[rowSums(!is.na(x)) > 0, ], use = 'pairwise'); psych::omega(same rows)",
      boot = "set.seed(seed); psych::alpha(x, n.iter = 1000) with options(mc.cores = 1)",
      kr20 = "k/(k-1) * (1 - sum(p*q) / var_n(total)) on complete rows, constant items dropped",
      groups = "listwise psych::alpha per level of the group column (n < 10: n only)"
    ),
    subscales = results
  )
  dest <- file.path("tests", "reference", paste0("reliability_", name, ".json"))
  write_json(out, dest, auto_unbox = TRUE, digits = NA, pretty = TRUE)
  message("wrote ", dest)
}

run_dataset("demo", "data/raw/demo/responses.csv", recode_demo)
run_dataset("ecr_5point", "data/raw/ecr_5point/responses.csv", recode_ecr5)
run_dataset("synthetic", "tests/data/reliability_synthetic.csv", recode_synthetic)
