# Side-by-side timing of the CFA estimators for `make bench` (attachment_pipeline.bench):
# lavaan fitting the ECR-R two-factor model to the benchmark cohort with
#   ML + FIML (missing = "ml"), MLR + FIML, and WLSMV (ordered items, pairwise),
# each with its fit measures (what the pipeline reports for its CFA).
# Usage: Rscript bench_estimators.R responses.csv [case ...]   (cases: fiml mlr_fiml wlsmv; default all)
# Prints one JSON line per case as it finishes: {"case": ..., "seconds": s, "chisq": x}
# (wall seconds of the fit including fitMeasures; reading and recoding not included).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
cases <- if (length(args) > 1) args[-1] else c("fiml", "mlr_fiml", "wlsmv")
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
fits <- list(
  fiml = function() cfa(model, x, estimator = "ML", missing = "ml"),
  mlr_fiml = function() cfa(model, x, estimator = "MLR", missing = "ml"),
  wlsmv = function() cfa(model, x, estimator = "WLSMV", ordered = TRUE, missing = "pairwise")
)
for (case in cases) {
  start <- Sys.time()
  fit <- fits[[case]]()
  fm <- fitMeasures(fit)
  cat(toJSON(list(case = case, seconds = as.numeric(difftime(Sys.time(), start, units = "secs")),
                  cpu = unname(proc.time()["user.self"]), chisq = unname(fm["chisq"])),
             auto_unbox = TRUE, digits = NA), "\n")
}
