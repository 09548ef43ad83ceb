# Reference values for src/attachment_pipeline/irt.py, computed with R lavaan.
#
# Run from the repository top (about 10-15 minutes; lavaan's MML is slow):
#   Rscript tests/r/irt_reference.R
# R's mirt, the package users know for IRT, is not installable here (not in Debian, no CRAN
# access); its own test-suite values are in tests/reference/irt_mirt.json (see that file).
# This script checks the normal-ogive graded response model, which is lavaan's ordinal factor
# model: with std.lv = TRUE and the theta parameterisation, P(X >= k | f) = Phi(lambda f - tau_k),
# so lambda = a and tau_k = -d_k (= a b_k) of attachment_pipeline.irt.fit_grm(link = "normal").
#
# Data:
#   tests/data/irt_normal_ogive.csv  1500 x 8 items on 1-5, simulated from a normal-ogive GRM
#                                    (tests/data/irt_make_data.py), no missing answers
#   data/raw/demo/responses.csv      the demo cohort: ECR-R items ecr_1..ecr_36 on 1-7; missing codes
#                                    -1 and 99 -> NA; reverse-keyed 9 11 20 22 26 27 28 29 30 31 33 34
#                                    35 36 as 8 - x; renamed ecr_r_1..36; anxiety = 1-18, avoidance = 19-36
#
# Writes tests/reference/irt_lavaan.json:
#   mml    cfa(model, ordered = TRUE, estimator = "MML", std.lv = TRUE, integration.ngh = 61,
#          start = the WLSMV theta-parameterisation fit, check.gradient = FALSE) on irt_normal_ogive.csv:
#          loadings, thresholds (items x 4), their standard errors (observed information), the
#          objective (minus the log-likelihood), converged, iterations, largest gradient element
#   wlsmv  cfa(model, ordered = TRUE, estimator = "WLSMV", std.lv = TRUE) (delta parameterisation) on
#          the same data: standardized loadings and thresholds (a = lambda / sqrt(1 - lambda^2),
#          b = tau / lambda)
#   demo   the same WLSMV fit per ECR-R subscale of the demo, listwise within the subscale: n,
#          standardized loadings and thresholds (items x 6)
# The JSON records the R and package versions and the md5 of every data file used.
#
# Needs: lavaan, jsonlite.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
options(warn = 1)

num <- function(v) unname(as.numeric(v))
md5 <- function(f) unname(tools::md5sum(f))

one_factor <- function(items) paste("f =~", paste(items, collapse = " + "))

thresholds <- function(pe, items, column) {
  t(sapply(items, function(i) pe[pe$op == "|" & pe$lhs == i, column]))
}

simulated <- "tests/data/irt_normal_ogive.csv"
dat <- read.csv(simulated)
items <- names(dat)
model <- one_factor(items)

wlsmv_theta <- cfa(model, data = dat, ordered = TRUE, estimator = "WLSMV", std.lv = TRUE,
                   parameterization = "theta")
started <- Sys.time()
mml <- cfa(model, data = dat, ordered = TRUE, estimator = "MML", std.lv = TRUE, integration.ngh = 61,
           start = wlsmv_theta, check.gradient = FALSE)
seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
pe <- parameterEstimates(mml)
mml_out <- list(
  loadings = num(pe[pe$op == "=~", "est"]),
  se_loadings = num(pe[pe$op == "=~", "se"]),
  thresholds = unname(thresholds(pe, items, "est")),
  se_thresholds = unname(thresholds(pe, items, "se")),
  objective = num(mml@optim$fx),
  converged = lavInspect(mml, "converged"),
  iterations = num(mml@optim$iterations),
  max_abs_gradient = max(abs(num(mml@optim$dx))),
  integration_ngh = 61,
  seconds = seconds
)

wlsmv <- cfa(model, data = dat, ordered = TRUE, estimator = "WLSMV", std.lv = TRUE)
ss <- standardizedSolution(wlsmv)
wlsmv_out <- list(
  std_loadings = num(ss[ss$op == "=~", "est.std"]),
  std_thresholds = unname(thresholds(ss, items, "est.std"))
)

demo_file <- "data/raw/demo/responses.csv"
d <- read.csv(demo_file)
x <- d[, paste0("ecr_", 1:36)]
x[x == -1 | x == 99] <- NA
for (j in c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)) x[[paste0("ecr_", j)]] <- 8 - x[[paste0("ecr_", j)]]
names(x) <- paste0("ecr_r_", 1:36)
demo_out <- list()
for (sub in c("anxiety", "avoidance")) {
  cols <- if (sub == "anxiety") paste0("ecr_r_", 1:18) else paste0("ecr_r_", 19:36)
  complete <- na.omit(x[, cols])
  f <- cfa(one_factor(cols), data = complete, ordered = TRUE, estimator = "WLSMV", std.lv = TRUE)
  s <- standardizedSolution(f)
  demo_out[[sub]] <- list(items = cols, n = nrow(complete),
                          std_loadings = num(s[s$op == "=~", "est.std"]),
                          std_thresholds = unname(thresholds(s, cols, "est.std")))
}

out <- list(
  meta = list(
    r_version = R.version.string,
    lavaan = as.character(packageVersion("lavaan")),
    jsonlite = as.character(packageVersion("jsonlite")),
    data_files = setNames(list(md5(simulated), md5(demo_file)), c(simulated, demo_file)),
    script = "tests/r/irt_reference.R"
  ),
  mml = mml_out,
  wlsmv = wlsmv_out,
  demo = demo_out
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, matrix = "rowmajor"),
           "tests/reference/irt_lavaan.json")
cat("wrote tests/reference/irt_lavaan.json\n")
