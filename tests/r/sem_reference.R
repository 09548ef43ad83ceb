# Reference values for src/attachment_pipeline/sem (the model-fitting engine), computed with lavaan.
#
# Run from the repository top:
#   Rscript tests/r/sem_reference.R
# Writes tests/reference/sem_cfa.json: for two shipped data sets with missing answers
#   demo       data/raw/demo/responses.csv       ECR-R 1-7 (ecr_1..ecr_36; -1, 99, blank -> NA;
#              reverse-keyed 9 11 20 22 26 27 28 29 30 31 33 34 35 36 as 8 - x; renamed ecr_r_1..36;
#              anxiety = 1-18, avoidance = 19-36)
#   ecr5       data/raw/ecr_5point/responses.csv ECR 1998 1-5 (Q1..Q36; 0 -> NA; reverse-keyed
#              3 15 19 22 25 27 29 31 33 35 as 6 - x; renamed ecr_1..36; odd items avoidance, even anxiety)
# the two-factor model (marker identification, lavaan defaults) fitted with
#   estimator ML  and missing "listwise" / "ml" (FIML)
#   estimator MLR and missing "listwise" / "ml"
# and the one-factor model with ML listwise and MLR FIML, and lavTestLRT of one vs two factors;
# WLSMV (ordered = TRUE) with missing "listwise" and "pairwise" (demo: the first 6 items of each
# subscale; ecr5: all 36) and lavTestLRT (satorra.2000) of one vs two factors.
# Invariance references: tests/r/sem_invariance_reference.R.
# Recorded: fitMeasures (all names the engine reports), parameterEstimates (est, se) and
# standardizedSolution (std.all). The Python tests (tests/test_sem.py) apply the same recoding.
#
# Needs: lavaan (0.6-14 in Debian bookworm), jsonlite.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
options(warn = 1)

recode_demo <- function(d) {
  items <- d[, paste0("ecr_", 1:36)]
  items[items == -1 | items == 99] <- NA
  rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
  for (j in rev) items[[paste0("ecr_", j)]] <- 8 - items[[paste0("ecr_", j)]]
  names(items) <- paste0("ecr_r_", 1:36)
  list(items = items, subscales = list(anxiety = paste0("ecr_r_", 1:18),
                                       avoidance = paste0("ecr_r_", 19:36)))
}

recode_ecr5 <- function(d) {
  items <- d[, paste0("Q", 1:36)]
  items[items == 0] <- NA
  rev <- c(3, 15, 19, 22, 25, 27, 29, 31, 33, 35)
  for (j in rev) items[[paste0("Q", j)]] <- 6 - items[[paste0("Q", j)]]
  names(items) <- paste0("ecr_", 1:36)
  list(items = items, subscales = list(anxiety = paste0("ecr_", seq(2, 36, 2)),
                                       avoidance = paste0("ecr_", seq(1, 35, 2))))
}

num <- function(v) unname(as.numeric(v))

FIT <- c("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
         "chisq.scaling.factor", "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
         "baseline.df.scaled", "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled",
         "tli.scaled", "cfi.robust", "tli.robust", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
         "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.robust",
         "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "srmr", "logl", "unrestricted.logl",
         "aic", "bic")

summary_of <- function(fit) {
  fm <- fitMeasures(fit)
  fm <- fm[intersect(FIT, names(fm))]
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  list(
    converged = lavInspect(fit, "converged"),
    fit = as.list(setNames(num(fm), gsub("\\.", "_", names(fm)))),
    params = list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = if (is.null(pe$group)) rep(1, nrow(pe)) else pe$group,
                  est = num(pe$est), se = num(pe$se), std_all = num(ss$est.std))
  )
}

datasets <- list(
  demo = list(file = "data/raw/demo/responses.csv", recode = recode_demo),
  ecr5 = list(file = "data/raw/ecr_5point/responses.csv", recode = recode_ecr5)
)

out <- list(meta = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                        script = "tests/r/sem_reference.R"), datasets = list())
for (name in names(datasets)) {
  ds <- datasets[[name]]
  rec <- ds$recode(read.csv(ds$file))
  x <- rec$items
  two <- paste(sapply(names(rec$subscales), function(s)
    paste(s, "=~", paste(rec$subscales[[s]], collapse = " + "))), collapse = "\n")
  one <- paste("general =~", paste(unlist(rec$subscales), collapse = " + "))
  fits <- list()
  out$datasets[[name]] <- list()
  for (est in c("ML", "MLR")) {
    for (miss in c("listwise", "ml")) {
      key <- paste0("two_", tolower(est), "_", ifelse(miss == "ml", "fiml", "listwise"))
      fits[[key]] <- summary_of(cfa(two, x, estimator = est, missing = miss))
    }
  }
  f1 <- cfa(one, x, estimator = "ML", missing = "listwise")
  f2 <- cfa(two, x, estimator = "ML", missing = "listwise")
  fits$one_ml_listwise <- summary_of(f1)
  lrt <- lavTestLRT(f2, f1)
  fits$lrt_ml_listwise <- list(chisq_diff = num(lrt[2, "Chisq diff"]), df_diff = num(lrt[2, "Df diff"]),
                               p = num(lrt[2, "Pr(>Chisq)"]))
  if (name == "demo") {
    sub <- unlist(lapply(rec$subscales, function(v) v[1:6]))
    xw <- x[, sub]
    two_w <- paste(sapply(names(rec$subscales), function(s)
      paste(s, "=~", paste(rec$subscales[[s]][1:6], collapse = " + "))), collapse = "\n")
    one_w <- paste("general =~", paste(sub, collapse = " + "))
  } else {
    xw <- x; two_w <- two; one_w <- one
  }
  for (miss in c("listwise", "pairwise")) {
    w2 <- cfa(two_w, xw, ordered = TRUE, estimator = "WLSMV", missing = miss)
    w1 <- cfa(one_w, xw, ordered = TRUE, estimator = "WLSMV", missing = miss)
    fits[[paste0("two_wlsmv_", miss)]] <- summary_of(w2)
    fits[[paste0("one_wlsmv_", miss)]] <- summary_of(w1)
    lrt <- lavTestLRT(w2, w1)
    fits[[paste0("lrt_wlsmv_", miss)]] <- list(chisq_diff = num(lrt[2, "Chisq diff"]),
                                               df_diff = num(lrt[2, "Df diff"]), p = num(lrt[2, "Pr(>Chisq)"]))
  }
  out$datasets[[name]]$model_two_wlsmv <- two_w
  out$datasets[[name]]$model_one_wlsmv <- one_w
  g1 <- cfa(one, x, estimator = "MLR", missing = "ml")
  g2 <- cfa(two, x, estimator = "MLR", missing = "ml")
  fits$one_mlr_fiml <- summary_of(g1)
  lrt <- lavTestLRT(g2, g1)  # satorra.bentler.2001 by default for MLR
  fits$lrt_mlr_fiml <- list(chisq_diff = num(lrt[2, "Chisq diff"]), df_diff = num(lrt[2, "Df diff"]),
                            p = num(lrt[2, "Pr(>Chisq)"]))
  out$datasets[[name]]$data_file <- ds$file
  out$datasets[[name]]$data_md5 <- unname(tools::md5sum(ds$file))
  out$datasets[[name]]$model_two <- two
  out$datasets[[name]]$model_one <- one
  out$datasets[[name]]$fits <- fits
}
dir.create("tests/reference", showWarnings = FALSE)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
      "tests/reference/sem_cfa.json")
cat("wrote tests/reference/sem_cfa.json\n")

