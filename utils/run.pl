#!/usr/bin/env perl
# Run a command (or an array of JOB=1:N tasks) on this machine, Kaldi style:
#   run.pl [options] [JOB=1:N] <log> <command...>
# Every task writes <log> (JOB replaced by the task index): '# <command>', '# Started at',
# the command's stdout+stderr, '# Accounting: ...', '# Ended (code N) at ...'.
# At most --max-jobs-run tasks run at once (default: the number of CPUs, or of GPUs with
# --gpu > 0). Scheduler-only options (--mem, --time, --name, -q ...) are accepted and ignored so
# one cmd string works with every backend. --pick failed|incomplete re-runs only the tasks whose
# log does not end with code 0 / has not ended.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX qw(:sys_wait_h);
use SqaSubmit qw(parse_command_line task_string log_header log_footer_lines report_failures
                 log_succeeded log_has_ended num_cpus num_gpus);

my $tool = 'run.pl';
my $p = eval { parse_command_line($tool, @ARGV) };
if ($@) { print STDERR $@; exit 1; }
my %k = %{$p->{known}};
for my $o (@{$p->{opts}}) {
    my $n = $o->[0];
    next if $n =~ /^(mem|gpu|num_threads|max_jobs_run|time|name|config|pick)$/;
    # Unknown long options are scheduler-specific; run.pl ignores them by design.
}
my ($jobvar, $start, $end) = ($p->{jobvar}, $p->{start} // 1, $p->{end} // 1);
my $gpu = $k{gpu} // 0;
my $max_jobs = $k{max_jobs_run};
if (!defined $max_jobs || $max_jobs == 0) {
    $max_jobs = num_cpus();
    if ($gpu > 0) { my $g = num_gpus(); $max_jobs = $g > 0 ? $g : 1; }
}
my $threads = $k{num_threads} // 1;
my $pick = $k{pick} // 'all';

my @tasks;
for my $id ($start .. $end) {
    my $log = task_string($p->{log}, $jobvar, $id);
    next if $pick eq 'failed' && log_succeeded($log);
    next if $pick eq 'incomplete' && log_has_ended($log);
    push @tasks, $id;
}
my $total = $end - $start + 1;

my %running;   # pid => task id
my %code;      # task id => exit status
my $interrupted = 0;
$SIG{INT} = $SIG{TERM} = sub { $interrupted = 1; kill 'TERM', -$_ for keys %running; };

sub run_task {
    my ($id) = @_;
    my $log = task_string($p->{log}, $jobvar, $id);
    my $cmd = task_string($p->{cmd}, $jobvar, $id);
    my $dir = dirname($log);
    make_path($dir) unless -d $dir;
    my $pid = fork();
    die "$tool: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);   # own process group, so an interrupt can stop the whole task
        open(my $fh, '>', $log) or do { print STDERR "$tool: cannot write log $log: $!\n"; POSIX::_exit(1); };
        print $fh log_header($cmd);
        close $fh;
        my $t0 = time();
        my $ret = system('bash', '-c', "( $cmd ) >>'$log' 2>&1");
        my $rc = $ret == -1 ? 127 : ($ret & 127) ? 128 + ($ret & 127) : $ret >> 8;
        open($fh, '>>', $log) or POSIX::_exit(1);
        print $fh log_footer_lines($rc, time() - $t0, $threads);
        close $fh;
        POSIX::_exit($rc > 255 ? 1 : $rc);
    }
    $running{$pid} = $id;
}

for my $id (@tasks) {
    last if $interrupted;
    while (keys %running >= $max_jobs) {
        my $pid = waitpid(-1, 0);
        last if $pid < 0;
        $code{delete $running{$pid}} = $? >> 8 if exists $running{$pid};
    }
    run_task($id);
}
while (keys %running) {
    my $pid = waitpid(-1, 0);
    last if $pid < 0;
    $code{delete $running{$pid}} = $? >> 8 if exists $running{$pid};
}

my @failed = grep { $code{$_} != 0 } sort { $a <=> $b } keys %code;
if ($interrupted) {
    print STDERR "$tool: interrupted\n";
    exit 130;
}
if (@failed) {
    # "K / N" counts failures among every task of the range, including ones --pick skipped.
    report_failures($tool, scalar @failed, $total, $p->{log}, task_string($p->{log}, $jobvar, $failed[0]));
    exit 1;
}
exit 0;
