# Side-by-side timing of the CFA estimators for `make bench` (attachment_pipeline.bench):
# lavaan 0.6-14 fitting the ECR-R two-factor model to the benchmark cohort with
#   ML + FIML (missing = "ml"), MLR + FIML, and WLSMV (ordered items, pairwise).
# Usage: Rscript bench_estimators.R responses.csv
# Prints one JSON line {"fiml": s, "mlr_fiml": s, "wlsmv": s, "chisq": {...}} (wall seconds of each fit
# including fitMeasures; reading and recoding not included).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
x <- as.matrix(d[, paste0("ecr_", 1:36)])
x[x %in% c(-1, 99)] <- NA
rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
x[, rev] <- 8 - x[, rev]
colnames(x) <- paste0("ecr_r_", 1:36)
x <- as.data.frame(x)
x <- x[rowSums(!is.na(x)) > 0, ]
model <- paste("anxiety =~", paste0("ecr_r_", 1:18, collapse = " + "),
               "\navoidance =~", paste0("ecr_r_", 19:36, collapse = " + "))
timed <- function(expr) {
  start <- Sys.time()
  fit <- expr
  fm <- fitMeasures(fit)
  list(seconds = as.numeric(difftime(Sys.time(), start, units = "secs")), chisq = unname(fm["chisq"]))
}
out <- list(
  fiml = timed(cfa(model, x, estimator = "ML", missing = "ml")),
  mlr_fiml = timed(cfa(model, x, estimator = "MLR", missing = "ml")),
  wlsmv = timed(cfa(model, x, estimator = "WLSMV", ordered = TRUE, missing = "pairwise"))
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
