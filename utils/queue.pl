#!/usr/bin/env perl
# queue.pl: runs a command (or an array of numbered tasks) as a Grid Engine (SGE,
# Son of Grid Engine, Univa/Altair) job and waits for it.
#   queue.pl [options] [JOB=1:N] <log-file> <command...>      (queue.pl --help for details)
# Options are mapped to qsub arguments by conf/queue.conf (or --config <file>; a
# built-in default when neither exists). --max-jobs-run N becomes -tc N.
# Each task runs <command> under bash in the current directory, with ./path.sh sourced
# if present; the job script and the scheduler's own output go to <logdir>/q/.
# SIGINT/SIGTERM cancel the job (qdel).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use Jobs::Common qw(parse_command_line);
use Jobs::Cluster qw(run_cluster_job);

my $tool = 'queue.pl';
my $builtin_config = <<'EOF_CONFIG';
command qsub -v PATH -cwd -S /bin/bash -j y
option name=* -N $0
option mem=* -l mem_free=$0
option mem=0
option num_threads=* -pe smp $0
option num_threads=1
option time=* -l h_rt=$0
default gpu=0
option gpu=0
option gpu=* -l gpu=$0
EOF_CONFIG

my $extra_usage = <<"EOF_USAGE";
queue.pl only:
  Options are translated by conf/queue.conf (--config <file> to use another file);
  raw qsub options (-q <queue>, -l <resource>, -pe <env> <n>, -V) are passed through.
  Without a config file this built-in one is used:
${\ join('', map { "    $_\n" } split /\n/, $builtin_config)}
e.g.: queue.pl --mem 2G JOB=1:4 exp/log/feats.JOB.log python -m speechbert.bin.compute_feats data/split4/JOB
EOF_USAGE

my %sge = (
  task_env => 'SGE_TASK_ID',
  header_extra => 'echo "# Grid Engine job ${JOB_ID:-?} task ${SGE_TASK_ID:-none}, queue ${QUEUE:-?}"',
  output_args => sub { my ($qlog) = @_; return ('-o', $qlog) },
  array_args => sub {
    my ($start, $end, $max) = @_;
    return ('-t', "$start:$end", ($max ? ('-tc', $max) : ()));
  },
  parse_job_id => sub {
    my ($out) = @_;
    return $out =~ /Your job(?:-array)? (\d+)/ ? $1 : undef;
  },
  transient_error => qr/qmaster|gdi request|failed receiving gdi/i,
  job_alive => sub {
    my ($id) = @_;
    my ($rc, $out) = Jobs::Cluster::capture('qstat', '-j', $id);
    return 1 if $rc == 0;
    return 0 if $out =~ /do not exist|does not exist/i;
    return undef;
  },
  cancel_command => sub { my ($id) = @_; return ('qdel', $id) },
);

# Errors end with exit status 1 (a plain die would exit 255).
$SIG{__DIE__} = sub { return if $^S; print STDERR $_[0]; exit 1; };

my $job = parse_command_line($tool, \@ARGV, $extra_usage);
exit run_cluster_job(
  tool => $tool, job => $job, sched => \%sge,
  default_config => 'conf/queue.conf', builtin_config => $builtin_config,
);
