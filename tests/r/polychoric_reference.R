# Reference values for src/attachment_pipeline/polychoric.py, computed with R lavaan and psych.
#
# Run from the repository top:
#   Rscript tests/r/polychoric_reference.R            writes tests/reference/polychoric_<set>.json
#   Rscript tests/r/polychoric_reference.R --bench N  times lavCor(ordered = TRUE), without and with
#                                                     Gamma, on N simulated respondents x 36
#                                                     seven-point items (no JSON)
#   Rscript tests/r/polychoric_reference.R --bench data.csv   the same on the data written by
#       python -m attachment_pipeline.polychoric --bench --save-data data.csv
#
# Item sets (recoding as tests/r/factors_reference.R; the Python tests apply the same):
#   demo7_listwise   data/raw/demo/responses.csv, ECR-R 1-7 (missing codes -1, 99, blanks -> NA;
#                    reverse-keyed 9 11 20 22 26 27 28 29 30 31 33 34 35 36 as 8 - x), items
#                    ecr_r_1..3 (anxiety) and ecr_r_19..21 (avoidance); missing = "listwise".
#   demo7_pairwise   same file, ecr_r_1..6 and ecr_r_19..24; missing = "pairwise".
#   demo7_all        same file, all 36 items, listwise: thresholds and correlations only (lavCor, psych).
#   ecr5_listwise    data/raw/ecr_5point/responses.csv, ECR 1-5 (0 -> NA; reverse-keyed 3 15 19 22 25
#                    27 29 31 33 35 as 6 - x), items ecr_1..ecr_12 (odd avoidance, even anxiety); listwise.
#   ecr5_pairwise    same file, ecr_1..ecr_6; pairwise.
#   binary_listwise  data/raw/demo/responses.csv min/max ticks mm_1..mm_8 (0/1); listwise.
#   binary_pairwise  same file, mm_9..mm_14; pairwise.
#   edge_listwise    tests/data/polychoric_edge.csv (see tests/data/polychoric_make_data.py: an empty
#   edge_pairwise    middle category, zero cells, 2 x 2 tables with an empty cell and with both
#                    thresholds 0), listwise and pairwise.
#   nonpd            tests/data/polychoric_nonpd.csv: psych only (pairwise matrix not positive definite).
# Computed per set:
#   lavaan::cfa(model, ordered = TRUE, estimator = "WLSMV", missing = ...): lavInspect "sampstat"
#     (thresholds, correlations), "gamma" (NACOV), "wls.v" (its diagonal), "nobs"; also, for the
#     SEM engine's own tests, fitMeasures and parameterEstimates of that WLSMV fit;
#   lavaan::lavCor(x, ordered = TRUE, missing = ..., output = "th" / "cor");
#   psych::polychoric(x)$rho and $tau on the rows lavaan uses (na.omit for listwise sets).
# The model: one factor per subscale (ECR sets), one factor for all items otherwise; the items are
# put in the model's order (lavaan's order of the statistics), recorded as `items`.
# The JSON records the R and package versions and the md5 of the data file.
#
# Needs: lavaan, psych, jsonlite.
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})
options(warn = 1)

num <- function(v) unname(as.numeric(v))
mat <- function(m) unname(as.matrix(unclass(m)))

read_demo <- function() {
  d <- read.csv("data/raw/demo/responses.csv", stringsAsFactors = FALSE, na.strings = "")
  items <- d[, paste0("ecr_", 1:36)]
  items[items == -1 | items == 99] <- NA
  rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
  for (j in rev) items[[paste0("ecr_", j)]] <- 8 - items[[paste0("ecr_", j)]]
  names(items) <- paste0("ecr_r_", 1:36)
  list(items = items, mm = d[, paste0("mm_", 1:22)])
}

read_ecr5 <- function() {
  d <- read.csv("data/raw/ecr_5point/responses.csv", stringsAsFactors = FALSE, na.strings = "")
  items <- d[, paste0("Q", 1:36)]
  items[items == 0] <- NA
  rev <- c(3, 15, 19, 22, 25, 27, 29, 31, 33, 35)
  for (j in rev) items[[paste0("Q", j)]] <- 6 - items[[paste0("Q", j)]]
  names(items) <- paste0("ecr_", 1:36)
  items
}

two_factor <- function(anx, avo) {
  paste0("anxiety =~ ", paste(anx, collapse = " + "), "\navoidance =~ ", paste(avo, collapse = " + "))
}
one_factor <- function(items) paste0("f =~ ", paste(items, collapse = " + "))

lavaan_stats <- function(x, model, missing) {
  fit <- cfa(model, data = x, ordered = TRUE, estimator = "WLSMV", missing = missing)
  ss <- lavInspect(fit, "sampstat")
  g <- lavInspect(fit, "gamma")
  w <- lavInspect(fit, "wls.v")
  fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
                           "chisq.scaling.factor", "chisq.shift.parameters", "cfi", "tli", "rmsea",
                           "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "ntotal"))
  pe <- parameterEstimates(fit)
  list(
    nobs = num(lavInspect(fit, "nobs")),
    th = num(ss$th), th_names = names(ss$th),
    cor = mat(ss$cov),
    gamma = mat(g), gamma_names = rownames(g),
    wls_v_diag = num(diag(w)),
    wlsmv_fit = list(
      model = model,
      fit = as.list(setNames(num(fm), gsub("\\.", "_", names(fm)))),
      params = list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = num(pe$est), se = num(pe$se))
    )
  )
}

psych_stats <- function(x) {
  pc <- polychoric(as.matrix(x))
  list(rho = mat(pc$rho), tau = mat(pc$tau))
}

analyse <- function(x, model, missing, gamma = TRUE) {
  if (!is.null(model)) x <- x[, lavNames(lavaanify(model), "ov")]  # lavaan's order: the model's
  out <- list(items = names(x), missing = missing, n_rows = nrow(x))
  if (gamma) out$lavaan <- lavaan_stats(x, model, missing)
  out$lavcor <- list(th = num(lavCor(x, ordered = TRUE, missing = missing, output = "th")),
                     cor = mat(lavCor(x, ordered = TRUE, missing = missing, output = "cor")))
  out$psych <- psych_stats(if (missing == "listwise") na.omit(x) else x)
  out
}

write_set <- function(name, res, file) {
  res$meta <- list(
    set = name, data_file = file, data_md5 = unname(tools::md5sum(file)),
    r_version = R.version.string,
    lavaan = as.character(packageVersion("lavaan")),
    psych = as.character(packageVersion("psych")),
    jsonlite = as.character(packageVersion("jsonlite")),
    script = "tests/r/polychoric_reference.R"
  )
  out <- file.path("tests/reference", paste0("polychoric_", name, ".json"))
  write(toJSON(res, digits = NA, auto_unbox = TRUE, matrix = "rowmajor", pretty = TRUE,
               na = "string"), out)
  cat("wrote", out, "\n")
}

bench <- function(arg) {
  if (grepl("\\.csv$", arg)) {  # the data the Python bench wrote (--save-data)
    x <- read.csv(arg)
  } else {
    n <- as.integer(arg)
    set.seed(20261124)
    p <- 36
    lam <- matrix(0, p, 2)
    lam[1:18, 1] <- 0.7
    lam[19:36, 2] <- 0.7
    s <- lam %*% matrix(c(1, .2, .2, 1), 2) %*% t(lam)
    diag(s) <- 1
    z <- matrix(rnorm(n * p), n) %*% chol(s)
    cuts <- qnorm(seq(0, 1, length.out = 8)[2:7]^1.3)
    x <- as.data.frame(apply(z, 2, function(v) findInterval(v, cuts) + 1))
  }
  n <- nrow(x)
  p <- ncol(x)
  t_cor <- system.time(invisible(lavCor(x, ordered = TRUE)))[["elapsed"]]
  t_fit <- system.time(invisible(lavCor(x, ordered = TRUE, se = "robust.sem", output = "fit")))[["elapsed"]]
  cat(toJSON(list(n = n, items = p, lavcor_seconds = t_cor,
                  lavcor_with_gamma_seconds = t_fit, lavaan = as.character(packageVersion("lavaan"))),
             auto_unbox = TRUE), "\n")
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1 && args[1] == "--bench") {
  bench(if (length(args) >= 2) args[2] else "50000")
  quit(save = "no")
}

demo <- read_demo()
ecr5 <- read_ecr5()
edge <- read.csv("tests/data/polychoric_edge.csv")
nonpd <- read.csv("tests/data/polychoric_nonpd.csv")
demo_file <- "data/raw/demo/responses.csv"
ecr5_file <- "data/raw/ecr_5point/responses.csv"

anx <- paste0("ecr_r_", 1:3); avo <- paste0("ecr_r_", 19:21)
write_set("demo7_listwise", analyse(demo$items[, c(anx, avo)], two_factor(anx, avo), "listwise"), demo_file)
anx <- paste0("ecr_r_", 1:6); avo <- paste0("ecr_r_", 19:24)
write_set("demo7_pairwise", analyse(demo$items[, c(anx, avo)], two_factor(anx, avo), "pairwise"), demo_file)
write_set("demo7_all", analyse(demo$items, NULL, "listwise", gamma = FALSE), demo_file)

it <- paste0("ecr_", 1:12)
write_set("ecr5_listwise", analyse(ecr5[, it], two_factor(it[c(FALSE, TRUE)], it[c(TRUE, FALSE)]), "listwise"),
          ecr5_file)
it <- paste0("ecr_", 1:6)
write_set("ecr5_pairwise", analyse(ecr5[, it], two_factor(it[c(FALSE, TRUE)], it[c(TRUE, FALSE)]), "pairwise"),
          ecr5_file)

it <- paste0("mm_", 1:8)
write_set("binary_listwise", analyse(demo$mm[, it], one_factor(it), "listwise"), demo_file)
it <- paste0("mm_", 9:14)
write_set("binary_pairwise", analyse(demo$mm[, it], one_factor(it), "pairwise"), demo_file)

write_set("edge_listwise", analyse(edge, one_factor(names(edge)), "listwise"), "tests/data/polychoric_edge.csv")
write_set("edge_pairwise", analyse(edge, one_factor(names(edge)), "pairwise"), "tests/data/polychoric_edge.csv")

res <- list(items = names(nonpd), n_rows = nrow(nonpd), psych = psych_stats(nonpd))
res$psych$rho_unsmoothed <- mat(polychoric(as.matrix(nonpd), smooth = FALSE)$rho)
write_set("nonpd", res, "tests/data/polychoric_nonpd.csv")
