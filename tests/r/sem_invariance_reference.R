# Writes tests/reference/sem_invariance.json: the demo (data/raw/demo/responses.csv, recoded as below)
# across gender (female, male; the 9 'other' left out): group.equal levels configural / metric /
# scalar / strict (ML listwise and MLR FIML; 36 items) and configural / metric / scalar with
# thresholds (WLSMV listwise; the first 6 items of each subscale), a partial scalar model
# (group.partial = "anxiety=~ecr_r_3", "ecr_r_3~1"), and lavTestLRT between consecutive levels
# (likelihood ratio, Satorra-Bentler 2001, Satorra 2000: lavaan's defaults per estimator).
#
# Run from the repository top:  Rscript tests/r/sem_invariance_reference.R
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

# ------------------------------------------------------------------ invariance across gender (demo)
d <- read.csv("data/raw/demo/responses.csv")
rec <- recode_demo(d)
x <- rec$items
x$gender <- d$gender
x <- x[x$gender %in% c("female", "male"), ]
two <- paste(sapply(names(rec$subscales), function(s)
  paste(s, "=~", paste(rec$subscales[[s]], collapse = " + "))), collapse = "\n")
sub <- unlist(lapply(rec$subscales, function(v) v[1:6]))
two_w <- paste(sapply(names(rec$subscales), function(s)
  paste(s, "=~", paste(rec$subscales[[s]][1:6], collapse = " + "))), collapse = "\n")
EQUAL <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
EQUAL_W <- list(configural = "", metric = "loadings", scalar = c("loadings", "thresholds"))
lrt_rows <- function(fits) {
  out <- list()
  for (k in seq_along(fits)[-1]) {
    lrt <- lavTestLRT(fits[[k]], fits[[k - 1]])
    out[[names(fits)[k]]] <- list(chisq_diff = num(lrt[2, "Chisq diff"]), df_diff = num(lrt[2, "Df diff"]),
                                  p = num(lrt[2, "Pr(>Chisq)"]))
  }
  out
}
inv <- list(meta = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                        script = "tests/r/sem_invariance_reference.R"), data_file = "data/raw/demo/responses.csv",
            data_md5 = unname(tools::md5sum("data/raw/demo/responses.csv")),
            model = two, model_wlsmv = two_w, cases = list())
for (case in list(list(name = "ml_listwise", est = "ML", miss = "listwise"),
                  list(name = "mlr_fiml", est = "MLR", miss = "ml"))) {
  fits <- lapply(EQUAL, function(eq) cfa(two, x, group = "gender", estimator = case$est,
                                          missing = case$miss, group.equal = eq))
  partial <- cfa(two, x, group = "gender", estimator = case$est, missing = case$miss,
                 group.equal = EQUAL$scalar, group.partial = c("anxiety=~ecr_r_3", "ecr_r_3~1"))
  inv$cases[[case$name]] <- list(levels = lapply(fits, summary_of), lrt = lrt_rows(fits),
                                 partial_scalar = summary_of(partial),
                                 partial_lrt = lrt_rows(list(metric = fits$metric, partial = partial)))
}
fits <- lapply(EQUAL_W, function(eq) cfa(two_w, x[, c(sub, "gender")], group = "gender", ordered = TRUE,
                                          estimator = "WLSMV", group.equal = eq))
inv$cases$wlsmv_listwise <- list(levels = lapply(fits, summary_of), lrt = lrt_rows(fits))
write(toJSON(inv, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
      "tests/reference/sem_invariance.json")
cat("wrote tests/reference/sem_invariance.json\n")
